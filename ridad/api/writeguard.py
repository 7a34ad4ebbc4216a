"""Writes that another web site could make a browser send: refused before
any route runs.

With Kerberos or client certificates the browser adds the user's
credentials by itself, so a page on any site could make a packager's
browser POST to ridad. Without ridad's consent (it answers no CORS
preflight) such a page can only send what an HTML form can: a body of type
``text/plain``, ``application/x-www-form-urlencoded`` or
``multipart/form-data``. And a browser names the page's origin in
``Origin``. So a write (any method but GET, HEAD and OPTIONS) is refused
with 415 when its Content-Type is a form's, and with 403 when its
``Origin`` is neither the API's own (the scheme and ``Host`` the request
came with) nor in ``api.allowed_origins``. Requests without a Content-Type
(rpkg's Kerberos path) or without an ``Origin`` (every client but a
browser) pass.

One form type is let through: a ``multipart/form-data`` write that carries
an ``Authorization`` header (an OIDC bearer token, or a Kerberos
``Negotiate`` token sent up front), which is how a modulemd file is
uploaded (MBS's ``yaml`` field). A browser never adds that header to a
request by itself: it sends Kerberos tokens only in answer to a 401
challenge, and ridad answers such an upload without the header with 415,
never with a challenge. Client certificates are ambient too, so under
``ssl`` authentication the header must still be there (its value is not
read). The Origin check applies to these uploads as to any write.
"""

from __future__ import annotations

from collections.abc import Collection

from twisted.web.iweb import IRequest

from ridad.config.origins import normalise_origin
from ridad.errors import Forbidden, UnsupportedMediaType

__all__ = ["FORM_TYPES", "MULTIPART", "check_write", "own_origin"]

#: The Content-Types an HTML form (or a no-CORS fetch) can send.
FORM_TYPES = frozenset(
    {b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data"}
)
MULTIPART = b"multipart/form-data"
READS = frozenset({b"GET", b"HEAD", b"OPTIONS"})


def check_write(request: IRequest, allowed_origins: Collection[str]) -> None:
    """Refuse a write a page on another site could have sent.

    :param request: any request; reads always pass.
    :param allowed_origins: normalised origins allowed besides the API's own.
    :raises UnsupportedMediaType: the Content-Type is one a form can send.
    :raises Forbidden: the ``Origin`` is foreign (or opaque, ``null``).
    """
    if request.method in READS:
        return
    headers = request.requestHeaders
    authorized = headers.hasHeader(b"authorization")
    for value in headers.getRawHeaders(b"content-type", []):
        media_type = value.split(b";", 1)[0].strip().lower()
        if media_type == MULTIPART and authorized:
            continue
        if media_type in FORM_TYPES:
            upload = (
                "; a multipart upload needs an Authorization header"
                if media_type == MULTIPART
                else ""
            )
            raise UnsupportedMediaType(
                f"a {media_type.decode('latin-1')} body is not accepted: send"
                f" JSON with Content-Type: application/json{upload}",
                details={"content_type": value.decode("latin-1")},
            )
    own = own_origin(request)
    for value in headers.getRawHeaders(b"origin", []):
        text = value.decode("latin-1")
        origin = normalise_origin(text)
        if origin is None or (origin != own and origin not in allowed_origins):
            raise Forbidden(
                f"writes from pages of {text!r} are refused: it is neither this"
                f" API's origin ({own or 'unknown'}) nor in api.allowed_origins",
                details={"origin": text},
            )


def own_origin(request: IRequest) -> str | None:
    """The origin the request was sent to: its scheme and ``Host`` header.

    :return: the normalised origin, or None without a usable ``Host``.
    """
    host = request.getHeader(b"host")
    if not host:
        return None
    scheme = "https" if request.isSecure() else "http"
    return normalise_origin(f"{scheme}://{host.decode('latin-1')}")
