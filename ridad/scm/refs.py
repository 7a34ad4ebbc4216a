"""Git refs and user-supplied URL text: the character and ref-format checks.

Pure code, shared by L{ridad.scm.url} (whole URLs) and the API (a seed-API
C{branch}). Everything is refused with L{InvalidRequest}, whose message says
what to fix.
"""

from __future__ import annotations

from ridad.errors import InvalidRequest

__all__ = ["MAX_URL_LENGTH", "check_ref", "check_text", "shown"]

MAX_URL_LENGTH = 4096

_REF_FORBIDDEN = set("~^:?*[\\#")


def shown(text: str) -> str:
    """
    Quote user input for an error message, escaping anything unprintable.

    @return: C{repr} of the text, shortened to 200 characters.
    """
    if len(text) > 200:
        text = text[:200] + "..."
    return repr(text)


def check_text(text: str, what: str) -> None:
    """
    Refuse empty, overlong, non-ASCII, control and whitespace characters.

    @raise InvalidRequest: naming the first offending character.
    """
    if not isinstance(text, str):
        raise InvalidRequest(f"The {what} must be a string")
    if not text:
        raise InvalidRequest(f"The {what} is empty")
    if len(text) > MAX_URL_LENGTH:
        raise InvalidRequest(
            f"The {what} is {len(text)} characters long; "
            f"at most {MAX_URL_LENGTH} are allowed"
        )
    for position, char in enumerate(text):
        code = ord(char)
        if char == "\x00":
            raise InvalidRequest(f"The {what} contains a NUL character")
        if code < 0x20 or code == 0x7F or char.isspace():
            raise InvalidRequest(
                f"The {what} contains a control or whitespace character "
                f"(U+{code:04X}) at position {position}; remove it"
            )
        if code > 0x7E:
            raise InvalidRequest(
                f"The {what} contains the non-ASCII character U+{code:04X} at "
                f"position {position}; use ASCII (xn-- form for host names)"
            )


def check_ref(ref: str) -> None:
    """
    Check a git ref (branch, tag, full ref or commit hash) is safe and valid.

    Applies git's check-ref-format rules, and refuses anything git could take
    as an option (a leading C{-}) or a transport (C{::}).

    @raise InvalidRequest: saying what is wrong with the ref.
    """
    check_text(ref, "ref")
    where = f"The ref {shown(ref)}"
    if ref.startswith("-"):
        raise InvalidRequest(f"{where} must not start with '-'")
    if "::" in ref:
        raise InvalidRequest(f"{where} must not contain '::'")
    bad = sorted(set(ref) & _REF_FORBIDDEN)
    if bad:
        raise InvalidRequest(
            f"{where} contains {''.join(bad)!r}; refs may not contain any of "
            "~ ^ : ? * [ \\ #"
        )
    if ".." in ref or "@{" in ref or ref == "@":
        raise InvalidRequest(f"{where} must not contain '..' or '@{{' or be '@'")
    if ref.startswith("/") or ref.endswith("/") or "//" in ref:
        raise InvalidRequest(f"{where} must not start or end with '/' or hold '//'")
    if ref.endswith("."):
        raise InvalidRequest(f"{where} must not end with '.'")
    for part in ref.split("/"):
        if part.startswith(".") or part.endswith(".lock"):
            raise InvalidRequest(
                f"{where} has a component starting with '.' or ending with '.lock'"
            )
