"""``twistd ridad``: its command-line ``Options`` and ``makeService``.

The tree itself is wired in :mod:`ridad.composition`. This module (with
``ridad/kojisim/tap.py``) is the only one that touches the global reactor.
"""

from __future__ import annotations

from twisted.python import usage

from ridad.composition import compose, read_config
from ridad.config.model import DEFAULT_CONFIG_PATH, Config
from ridad.errors import ConfigError
from ridad.service import RidadService


class Options(usage.Options):
    """Command line of ``twistd ridad``."""

    optParameters = [
        ["config", "c", DEFAULT_CONFIG_PATH, "The configuration file (YAML)."],
    ]

    def postOptions(self) -> None:
        """Read and validate the configuration before anything starts.

        :raises usage.UsageError: the file cannot be read or has problems.
        """
        try:
            self["parsed_config"] = read_config(self["config"])
        except OSError as e:
            raise usage.UsageError(
                f"cannot read configuration {self['config']}: {e.strerror}"
            ) from None
        except ConfigError as e:
            listing = "\n  ".join(e.messages)
            raise usage.UsageError(
                f"configuration {self['config']} has problems:\n  {listing}"
            ) from None


def makeService(options: Options) -> RidadService:
    """Build the service tree from the options; nothing is started.

    :returns: the root service.
    """
    from twisted.internet import reactor

    config: Config = options["parsed_config"]
    return compose(reactor, config, options["config"])
