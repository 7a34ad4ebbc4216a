"""The SCM whitelist: which repository locations ridad may fetch from.

L{Whitelist} parses its entries with L{ridad.scm.url.parse_repository} and
allows a location when it lies below one of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from ridad.errors import Forbidden, InvalidRequest
from ridad.scm.refs import shown
from ridad.scm.url import RepoLocation, parse_repository

__all__ = ["Whitelist"]


class Whitelist:
    """
    The repository locations ridad may fetch from.

    An entry allows itself and every location below it: scheme, host and
    port must be equal and paths match on segment boundaries, so
    C{git://h/modules} allows C{git://h/modules/foo.git} but not
    C{git://h/modules-evil/x.git}. C{file://} locations are allowed only
    below a C{file://} entry.
    """

    def __init__(self, entries: Sequence[str]) -> None:
        """
        Parse the entries.

        @raise ValueError: C{entries} is a single string, or an entry is not
            an acceptable repository location; the message names it.
        """
        if isinstance(entries, (str, bytes)):
            # ValueError, not TypeError: config validation reports ValueErrors.
            raise ValueError(  # noqa: TRY004
                "the whitelist must be a list of repository URLs"
            )
        locations = []
        for entry in entries:
            try:
                locations.append(parse_repository(entry))
            except InvalidRequest as error:
                raise ValueError(
                    f"bad whitelist entry {shown(str(entry))}: {error.message}"
                ) from None
        self.entries: tuple[RepoLocation, ...] = tuple(locations)

    def __repr__(self) -> str:
        """
        Show the normalised entries.

        @return: the representation.
        """
        return f"Whitelist({[entry.render() for entry in self.entries]!r})"

    def allows(self, location: RepoLocation) -> bool:
        """
        Whether some entry covers this location.

        @return: C{True} when the location may be used.
        """
        return any(location.is_under(entry) for entry in self.entries)

    def allows_scheme(self, scheme: str) -> bool:
        """
        Whether some entry uses this scheme (such as C{file}).

        @return: C{True} when at least one entry has that scheme.
        """
        return any(entry.scheme == scheme.lower() for entry in self.entries)

    def require(self, location: RepoLocation) -> None:
        """
        Refuse a location no entry covers.

        @raise Forbidden: the location is outside the whitelist.
        """
        if not self.allows(location):
            raise Forbidden(
                f"The repository {location.render()} is not in the SCM "
                "whitelist; use a repository below one of: "
                + ", ".join(entry.render() for entry in self.entries)
            )
