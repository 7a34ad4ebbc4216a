"""The Jinja2 environment of the status page (autoescaped), its filters,
and the static files: read (or rendered from the palette) once, each served
under a name that carries its content's hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from ridad.web.badge import Badge
from ridad.web.palette import PAGE, STATE_SIGNS, STATES

#: The media type of each static file by its suffix.
MEDIA_TYPES = {
    ".css": b"text/css; charset=utf-8",
    ".js": b"text/javascript; charset=utf-8",
}


def format_when(value: datetime | None) -> str:
    """``2026-11-27 10:00:05 UTC``, or an em dash."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_clock(value: datetime) -> str:
    """The time of day, ``10:00:05`` (UTC)."""
    return value.astimezone(UTC).strftime("%H:%M:%S")


def iso_time(value: datetime | None) -> str:
    """The machine-readable form for ``<time datetime>``."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_duration(seconds: float | None) -> str:
    """``4 s``, ``2 min 5 s``, ``1 h 3 min``, ``2 d 4 h``; an em dash for None."""
    if seconds is None:
        return "—"
    whole = int(seconds)
    if seconds < 10 and seconds != whole:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def state_sign(state: str) -> str:
    """The sign shown before a state's name."""
    return STATE_SIGNS.get(state, "•")


@dataclass(frozen=True)
class StaticFile:
    """A static file in memory: its bytes, media type and versioned URL."""

    name: str
    body: bytes
    media_type: bytes
    digest: str

    @property
    def url(self) -> str:
        """Its URL, naming its content's hash (so it may be cached long)."""
        return f"/static/{self.name}?v={self.digest}"


def _static(name: str, body: bytes) -> StaticFile:
    suffix = name[name.rindex(".") :]
    digest = hashlib.sha256(body).hexdigest()[:16]
    return StaticFile(
        name=name, body=body, media_type=MEDIA_TYPES[suffix], digest=digest
    )


class Renderer:
    """Renders the page templates; holds the static files."""

    def __init__(self) -> None:
        self._env = Environment(
            loader=PackageLoader("ridad.web", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(
            when=format_when,
            clock=format_clock,
            iso=iso_time,
            duration=format_duration,
            sign=state_sign,
        )
        css = self._env.get_template("style.css").render(page=PAGE, states=STATES)
        script = resources.files("ridad.web").joinpath("static/live.js").read_bytes()
        self.static: dict[str, StaticFile] = {
            f.name: f
            for f in (_static("style.css", css.encode()), _static("live.js", script))
        }
        self._env.globals.update(
            static={name: f.url for name, f in self.static.items()}
        )

    def page(self, template: str, **context: Any) -> bytes:
        """A page rendered from ``template``, as UTF-8."""
        return self._env.get_template(template).render(**context).encode("utf-8")

    def badge(self, badge: Badge) -> bytes:
        """A badge's SVG."""
        return self.page("badge.svg", badge=badge)
