"""Where ``rida`` finds its server and credentials.

A command-line flag wins over the environment (``RIDA_SERVER``,
``RIDA_TOKEN``, ``RIDA_USER``), which wins over the configuration file
``$XDG_CONFIG_HOME/rida/config.yaml`` (``~/.config/rida/config.yaml``).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from ridad.cli.exits import UsageError

DEFAULT_SERVER = "http://127.0.0.1:8080"
API_PATH = "/module-build-service/2"
#: Settings of the configuration file; each is a string.
CONFIG_KEYS = ("server", "token", "cert", "key", "ca", "user")
#: Settings the environment may give, and their variables.
ENVIRONMENT = {"server": "RIDA_SERVER", "token": "RIDA_TOKEN", "user": "RIDA_USER"}


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one ``rida`` run."""

    api_url: str
    token: str | None = None
    cert: str | None = None
    key: str | None = None
    ca: str | None = None
    user: str | None = None

    @property
    def server(self) -> str:
        """The server as the user knows it: ``api_url`` without the API path."""
        return self.api_url.removesuffix(API_PATH + "/")


def config_path(environ: Mapping[str, str]) -> Path:
    """The configuration file ``rida`` reads."""
    base = environ.get("XDG_CONFIG_HOME") or str(_home(environ) / ".config")
    return Path(base) / "rida" / "config.yaml"


def load_config(path: Path) -> dict[str, str]:
    """The settings in the configuration file ``path``; none when it is missing.

    :raises UsageError: the file cannot be read, is not YAML, or holds
        unknown keys or values that are not strings (all listed at once).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    try:
        document: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not valid YAML: {exc}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise UsageError(f"{path} must be a mapping such as 'server: URL'")
    problems = []
    for key, value in document.items():
        if key not in CONFIG_KEYS:
            problems.append(f"unknown key {key!r} (known: {', '.join(CONFIG_KEYS)})")
        elif not isinstance(value, str) or not value:
            problems.append(f"{key}: must be a non-empty string")
    if problems:
        raise UsageError(f"{path}: " + "; ".join(problems))
    return dict(document)


def resolve_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    """The settings of this run: flags, then environment, then the file.

    :raises UsageError: a bad configuration file or server URL, or a key
        without its certificate.
    """
    config = load_config(config_path(environ))
    home = _home(environ)

    def pick(name: str) -> str | None:
        flag = getattr(args, name, None)
        if flag:
            return str(flag)
        variable = ENVIRONMENT.get(name)
        if variable and environ.get(variable):
            return environ[variable]
        return config.get(name)

    def path(name: str) -> str | None:
        value = pick(name)
        return _expand(value, home) if value else None

    cert, key = path("cert"), path("key")
    if key and not cert:
        raise UsageError("a client key needs its certificate: pass --cert too")
    return Settings(
        api_url=api_url(pick("server") or DEFAULT_SERVER),
        token=pick("token"),
        cert=cert,
        key=key or cert,
        ca=path("ca"),
        user=pick("user"),
    )


def api_url(server: str) -> str:
    """The MBS API v2 base URL of ``server`` (which may already end with it).

    :raises UsageError: ``server`` is not an http(s) URL with a host.
    """
    text = server.strip()
    bad = f"bad server URL {server!r}: expected http(s)://host[:port][/path]"
    if not text.isprintable() or " " in text:
        raise UsageError(bad)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        raise UsageError(bad) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(bad)
    if parts.query or parts.fragment:
        raise UsageError(f"bad server URL {server!r}: no query or fragment, please")
    base = text.rstrip("/")
    if not base.endswith(API_PATH):
        base += API_PATH
    return base + "/"


def _home(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("HOME") or Path.home())


def _expand(value: str, home: Path) -> str:
    if value == "~" or value.startswith("~/"):
        return str(home / value[2:])
    return value
