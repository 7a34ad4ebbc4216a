"""``read_config``: a configuration file read, parsed and checked further
than its parser can on its own: the SCM whitelists and default repository,
the ``auth`` section's files and settings, and ``koji.base_module_tags``.
``ridad.tap`` calls it before the reactor runs, and SIGHUP again (through
``ridad.composition``)."""

from __future__ import annotations

from pathlib import Path

from ridad.api.auth_setup import auth_problems
from ridad.api.imports import configured_base_modules
from ridad.config.model import Config
from ridad.config.parse import parse_config
from ridad.errors import ConfigError, Unprocessable
from ridad.scm.url import parse_repository
from ridad.scm.whitelist import Whitelist

__all__ = ["read_config"]


def read_config(path: str) -> Config:
    """Read and validate a configuration file, URLs included.

    :returns: the configuration.
    :raises ConfigError: every problem found.
    :raises OSError: the file cannot be read.
    """
    config = parse_config(Path(path).read_text(encoding="utf-8"))
    problems = []
    for key, entries in (
        ("scm.allowed", config.scm.allowed),
        ("scm.rpms_allowed", config.scm.rpms_allowed),
    ):
        try:
            Whitelist(entries)
        except ValueError as e:
            problems.append(f"{key}: {e}")
    try:
        parse_repository(config.scm.rpms_default_repository)
    except Exception as e:  # noqa: BLE001 - reported as a config problem
        problems.append(f"scm.rpms_default_repository: {getattr(e, 'message', e)}")
    problems.extend(auth_problems(config))
    try:
        configured_base_modules(config)
    except Unprocessable as e:
        problems.append(f"koji.base_module_tags: {e.message}")
    if problems:
        raise ConfigError(problems)
    return config
