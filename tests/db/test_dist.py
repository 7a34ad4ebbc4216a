"""MBS's ``%dist`` of a module build on PostgreSQL: MSE siblings share the
lowest sibling id as index, and the base module's ``disttag_marking``
replaces its stream."""

from __future__ import annotations

import hashlib

import pytest_twisted

from ridad.db.builds import ModuleBuildStore, SchedulingStore
from ridad.db.pool import Pool
from ridad.scheduler.environment import dist_of
from tests.db.test_api_expansion import ready_build

BASE = """document: modulemd
version: 2
data:
  name: platform
  stream: el8.2.0
  xmd: {mbs: {koji_tag: el8-build, disttag_marking: el8}}
"""


def digest(nsvc: str) -> str:
    return hashlib.sha1(nsvc.encode()).hexdigest()[:8]


async def demo(pool: Pool, context: str, base: dict, **columns: object) -> int:
    return await ready_build(
        pool, "demo", "main", 80200, context=context, imported=False,
        buildrequires={"platform": base}, **columns,
    )  # fmt: skip


@pytest_twisted.ensureDeferred
async def test_siblings_share_the_lowest_id_and_the_base_marking(pool: Pool) -> None:
    """Two siblings (same name, stream, version) take the first one's id as
    index; the base module's disttag_marking stands for its stream."""
    base_id = await ready_build(
        pool, "platform", "el8.2.0", 0, modulemd=BASE, koji_tag="el8-build"
    )
    base = {"stream": "el8.2.0", "base_module": True, "module_build_id": base_id}
    first = await demo(pool, "aaaaaaaa", base)
    second = await demo(pool, "bbbbbbbb", base)
    scratch = await demo(pool, "cccccccc", base, scratch=True)
    builds = ModuleBuildStore(pool=pool)
    store = SchedulingStore(pool=pool)
    assert await dist_of(store, await builds.get(second)) == (
        f".module+el8+{first}+{digest('demo.main.80200.bbbbbbbb')}"
    )
    assert await dist_of(store, await builds.get(first)) == (
        f".module+el8+{first}+{digest('demo.main.80200.aaaaaaaa')}"
    )
    assert await dist_of(store, await builds.get(scratch)) == (
        f".scrmod+el8+{scratch}+{digest('demo.main.80200.cccccccc')}"
    )


@pytest_twisted.ensureDeferred
async def test_without_a_marking_the_base_stream_is_used(pool: Pool) -> None:
    """A base module with no disttag_marking (or no row: a configured tag
    recorded before imports) marks the dist with its stream."""
    base = {"stream": "f40", "base_module": True}
    only = await demo(pool, "dddddddd", base)
    build = await ModuleBuildStore(pool=pool).get(only)
    assert await dist_of(SchedulingStore(pool=pool), build) == (
        f".module+f40+{only}+{digest('demo.main.80200.dddddddd')}"
    )
