"""What a submission reads from Koji before it is accepted: the arches of
each sibling's base module tag, so a module with no arch left to build for
is refused with 422 at once instead of failing at its wait step.

Koji is read through an injected callable (``KojiHub.tag_arches`` in
production); when Koji cannot be reached the submission is still accepted
and the wait step narrows the arches (and fails the build if none is
left), so an outage of Koji never blocks submissions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from twisted.logger import Logger

from ridad.config.model import KojiConfig
from ridad.domain.buildroot import base_module_tag, plan_arches
from ridad.domain.mse import Expansion
from ridad.errors import KojiError, Unprocessable

__all__ = ["TagArches", "sibling_arches"]

#: The arches of each named Koji tag (None: the tag sets none), in one read.
TagArches = Callable[[Sequence[str]], Awaitable[list[tuple[str, ...] | None]]]

log = Logger()


async def _read(
    tag_arches: TagArches | None, tags: list[str]
) -> dict[str, tuple[str, ...] | None]:
    """The arches of ``tags`` (nothing when Koji cannot tell now)."""
    if tag_arches is None or not tags:
        return {}
    try:
        found = await tag_arches(tags)
    except KojiError as error:
        log.warn(
            "Koji did not answer for the arches of {koji_tags} ({error}); the"
            " wait step will narrow them",
            koji_tags=tags,
            error=error,
        )
        return {}
    return dict(zip(tags, found, strict=True))


async def sibling_arches(
    module_arches: Sequence[str],
    expansions: Sequence[Expansion],
    koji: KojiConfig | None,
    tag_arches: TagArches | None,
) -> list[tuple[str, ...] | None]:
    """The arches each sibling builds for: ``koji.arches`` narrowed to
    ``buildopts.arches`` and to its base module tag's arches (None without
    Koji).

    :raises Unprocessable: a sibling has no arch left; the message names
        its base module.
    """
    if koji is None:
        return [None] * len(expansions)
    tags = [base_module_tag(e.buildrequires) for e in expansions]
    known = await _read(tag_arches, sorted({t for t in tags if t}))
    arches = []
    for expansion, tag in zip(expansions, tags, strict=True):
        try:
            arches.append(plan_arches(module_arches, known.get(tag or ""), koji.arches))
        except Unprocessable as refused:
            base = expansion.base_module
            on = f" on {base.name}:{base.stream}" if base is not None else ""
            raise Unprocessable(f"the build{on}: {refused}") from None
    return arches
