"""Web origins (RFC 6454) as ``api.allowed_origins`` and the ``Origin``
header give them: parsed and normalised so that equal origins compare equal.

Pure code, shared by the configuration parser and the API's write guard.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["normalise_origin"]

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(text: str) -> str | None:
    """``scheme://host[:port]`` in lower case without a default port.

    :param text: an origin such as ``https://Rida.Example.org:443``.
    :return: the normalised origin (``https://rida.example.org``), or None
        when ``text`` is not an http or https origin (a path, credentials,
        a query, the opaque origin ``null``, non-ASCII text).
    """
    if not text.isascii() or not text.isprintable() or " " in text:
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if (
        parts.scheme not in DEFAULT_PORTS
        or not host
        or "@" in parts.netloc
        or parts.path
        or parts.query
        or parts.fragment
        or text.endswith(("?", "#"))
    ):
        return None
    shown_host = f"[{host}]" if ":" in host else host
    if port is None or port == DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{shown_host}"
    return f"{parts.scheme}://{shown_host}:{port}"
