"""A module stream's status badge: an SVG in the shape of shields.io's flat
badge, ``module | ready``, its right half coloured by the state.

The text is measured with a table of Verdana's widths at 11 px (the font
the SVG asks for; a viewer without it falls back to a similar sans-serif),
so the badge fits its words without a font on the server.
"""

from __future__ import annotations

from dataclasses import dataclass

from ridad.web.palette import BADGE_LABEL, BADGE_STATES, BADGE_TEXT

#: Verdana 11 px advance widths of the characters badges usually hold.
_WIDTHS: dict[str, float] = {
    **dict.fromkeys("abdeghknopquvxy", 6.8),
    **dict.fromkeys("cksz", 5.8),
    **dict.fromkeys("fjt", 4.3),
    **dict.fromkeys("ilI", 3.1),
    "m": 10.7,
    "r": 4.7,
    "w": 9.0,
    **dict.fromkeys("0123456789", 7.0),
    **dict.fromkeys("ABCDEFGHJKLNOPQRSTUVXYZ", 7.6),
    **dict.fromkeys("MW", 9.8),
    " ": 3.9,
    ":": 4.7,
    "-": 4.9,
    ".": 3.9,
    "_": 7.0,
    "+": 9.2,
    "/": 4.9,
}
_DEFAULT_WIDTH = 7.0
#: Space either side of each half's text.
PADDING = 6
MAX_LABEL = 40


def text_width(text: str) -> int:
    """The width of ``text`` in Verdana 11 px, rounded up."""
    total = sum(_WIDTHS.get(c, _DEFAULT_WIDTH) for c in text)
    return int(total + 0.999)


@dataclass(frozen=True)
class Badge:
    """A badge's two halves and the geometry of its SVG."""

    label: str
    message: str
    colour: str

    @property
    def label_width(self) -> int:
        """The left half's width."""
        return text_width(self.label) + 2 * PADDING

    @property
    def message_width(self) -> int:
        """The right half's width."""
        return text_width(self.message) + 2 * PADDING

    @property
    def width(self) -> int:
        """The whole badge's width."""
        return self.label_width + self.message_width

    @property
    def label_x(self) -> float:
        """The centre of the label's text."""
        return self.label_width / 2

    @property
    def message_x(self) -> float:
        """The centre of the message's text."""
        return self.label_width + self.message_width / 2

    @property
    def label_colour(self) -> str:
        """The left half's colour."""
        return BADGE_LABEL

    @property
    def text_colour(self) -> str:
        """The text's colour."""
        return BADGE_TEXT


def state_badge(state: str | None, label: str = "module") -> Badge:
    """The badge of a stream whose newest build is in ``state`` (None: no
    build, ``unknown``)."""
    message = state or "unknown"
    colour = BADGE_STATES.get(message, BADGE_STATES["unknown"])
    return Badge(label=label[:MAX_LABEL] or "module", message=message, colour=colour)
