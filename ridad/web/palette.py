"""Every colour of the status page and the badges, in one place.

The stylesheet is rendered from these (``templates/style.css``), so
``tests/unit/web/test_palette.py`` can check each text colour against the
background it is shown on (WCAG AA: a contrast ratio of at least 4.5:1).
"""

from __future__ import annotations

#: The page's own colours: role -> ``#rrggbb``.
PAGE: dict[str, str] = {
    "text": "#1f2328",
    "background": "#ffffff",
    "muted": "#57606a",
    "link": "#0550ae",
    "header_text": "#ffffff",
    "header_background": "#24292f",
    "code_text": "#1f2328",
    "code_background": "#f6f8fa",
    "border": "#d0d7de",
    "focus": "#bf3989",
    "error_text": "#a0111f",
    "error_background": "#ffe3e6",
}

#: The text colour of each page role, and the background it is shown on.
TEXT_ON_BACKGROUND: tuple[tuple[str, str], ...] = (
    ("text", "background"),
    ("muted", "background"),
    ("link", "background"),
    ("header_text", "header_background"),
    ("code_text", "code_background"),
    ("muted", "code_background"),
    ("link", "code_background"),
    ("error_text", "error_background"),
)

#: A state's label on the page: (text, background). Module and component
#: states share a name where they mean the same (``failed``).
STATES: dict[str, tuple[str, str]] = {
    "init": ("#3d444d", "#eef1f4"),
    "wait": ("#6b4500", "#fff2cc"),
    "build": ("#0a4ea6", "#ddeeff"),
    "done": ("#0b5e55", "#d8f3ef"),
    "ready": ("#1a5e20", "#dcf5de"),
    "failed": ("#a0111f", "#ffe3e6"),
    "garbage": ("#4a4a4a", "#ececec"),
    "waiting": ("#3d444d", "#eef1f4"),
    "building": ("#0a4ea6", "#ddeeff"),
    "complete": ("#1a5e20", "#dcf5de"),
    "canceled": ("#6b4500", "#fff2cc"),
}

#: A sign before each state's name, so that no state is told by colour alone.
STATE_SIGNS: dict[str, str] = {
    "init": "○",
    "wait": "◔",
    "build": "◑",
    "done": "◕",
    "ready": "✓",
    "failed": "✗",
    "garbage": "⌫",
    "waiting": "○",
    "building": "◑",
    "complete": "✓",
    "canceled": "⊘",
}

#: Badge colours: white text on these (11 px, so they too need 4.5:1).
BADGE_LABEL = "#555555"
BADGE_TEXT = "#ffffff"
BADGE_STATES: dict[str, str] = {
    "init": "#57606a",
    "wait": "#8a5a00",
    "build": "#1565c0",
    "done": "#00796b",
    "ready": "#2e7d32",
    "failed": "#c62828",
    "garbage": "#5f6670",
    "unknown": "#5f6670",
}


def relative_luminance(colour: str) -> float:
    """WCAG 2's relative luminance of ``#rrggbb``."""
    channels = []
    for i in (1, 3, 5):
        c = int(colour[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2's contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    light, dark = sorted(
        (relative_luminance(first), relative_luminance(second)), reverse=True
    )
    return (light + 0.05) / (dark + 0.05)
