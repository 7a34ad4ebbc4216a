"""The status page's reads against real PostgreSQL: a build's page data in
one transaction (components, the whole trace, the final modulemd), the
newest build of a stream for its badge, and the page served over them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.task import Clock
from twisted.web.server import Site

from ridad.db.builds import ModuleBuildStore
from ridad.db.pool import Pool
from ridad.db.status_page import StatusPageStore
from ridad.domain.koji import KojiBuild
from ridad.domain.states import ComponentState, ModuleState
from ridad.errors import NotFound
from ridad.transitions import Transitions
from ridad.web.app import StatusPages
from tests.db.statements import StatementLog
from tests.db.test_transitions import building, new_build
from tests.final_documents import WHOLE, store_documents

START = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    """The transitions' clock, at 2026-12-01."""
    clock = Clock()
    clock.advance(START.timestamp())
    return clock


async def built_macros(pool: Pool, clock: Clock) -> int:
    """A build in ``build`` whose macros component built for 42 s; its id."""
    transitions = Transitions(pool=pool, clock=clock)
    snapshot = await building(transitions, pool)
    macros = snapshot.components[0]
    clock.advance(3)
    await transitions.record_submissions(snapshot.build.id, {macros.id: 321}, epoch=0)
    clock.advance(42)
    nvr = "module-build-macros-0.1-1.module+f40+1+c0ffee00"
    koji_build = KojiBuild(
        id=77, nvr=nvr, name="module-build-macros", version="0.1",
        release="1.module+f40+1+c0ffee00", state="complete", task_id=321,
    )  # fmt: skip
    fresh = (await ModuleBuildStore(pool=pool).get_with_components(snapshot.build.id))[
        1
    ]
    await transitions.record_task_end(
        fresh[0], ComponentState.COMPLETE, None, task_state="closed",
        koji_build=koji_build, epoch=0,
    )  # fmt: skip
    return snapshot.build.id


@pytest_twisted.ensureDeferred
async def test_a_build_page_is_read_in_one_transaction(
    pool: Pool, clock: Clock
) -> None:
    """Components by batch, every trace row oldest first (the module's and
    the components'), and modulemd.txt once written, in one pool use."""
    module_build_id = await built_macros(pool, clock)
    store = StatusPageStore(pool=pool)
    log = StatementLog().install(pool)
    data = await store.build_page(module_build_id)
    assert len(log.uses) == 1, log.uses
    assert [c.name for c in data.components] == ["module-build-macros", "a", "b"]
    assert [t.id for t in data.trace] == sorted(t.id for t in data.trace)
    modules = [t.new_state for t in data.trace if t.component_build_id is None]
    assert modules == ["init", "wait", "build"]
    macros = [t for t in data.trace if t.component_build_id == data.components[0].id]
    assert [t.new_state for t in macros] == ["waiting", "building", "complete"]
    building_row, complete_row = macros[1:]
    assert (complete_row.time - building_row.time).total_seconds() == 42
    assert data.final_modulemd is None
    await store_documents(pool, module_build_id)
    assert (await store.build_page(module_build_id)).final_modulemd == WHOLE
    with pytest.raises(NotFound):
        await store.build_page(module_build_id + 1000)
    with pytest.raises(NotFound):
        await store.build_page(2**63)


@pytest_twisted.ensureDeferred
async def test_the_badge_reads_the_newest_build_that_is_not_scratch(
    pool: Pool, clock: Clock
) -> None:
    """The stream's last submitted build, a scratch build never; None when
    the stream has none."""
    transitions = Transitions(pool=pool, clock=clock)
    store = StatusPageStore(pool=pool)
    assert await store.newest_build("demo", "main") is None
    first, _ = await transitions.create_module_build(new_build("demo"))
    await transitions.change_module_state(first, ModuleState.FAILED, "broken")
    second, _ = await transitions.create_module_build(
        replace(new_build("demo"), version=2)
    )
    await transitions.create_module_build(
        replace(new_build("demo"), version=3, scratch=True)
    )
    newest = await store.newest_build("demo", "main")
    assert newest is not None and (newest.id, newest.state) == (
        second,
        ModuleState.INIT,
    )
    assert await store.newest_build("demo", "other") is None


@pytest_twisted.ensureDeferred
async def test_the_page_of_a_real_build_over_loopback(pool: Pool, clock: Clock) -> None:
    """``GET /builds/N`` over the real stores: the component's NVR, Koji
    links under ``koji.weburl``, its duration from the trace."""
    module_build_id = await built_macros(pool, clock)
    pages = StatusPages(
        builds=ModuleBuildStore(pool=pool),
        pages=StatusPageStore(pool=pool),
        clock=clock,
        weburl=lambda: "https://koji.example.org/koji/",
    )
    port = reactor.listenTCP(0, Site(pages.app.resource()), interface="127.0.0.1")
    try:
        base = f"http://127.0.0.1:{port.getHost().port}"
        response = await treq.get(f"{base}/builds/{module_build_id}")
        body = (await response.content()).decode()
        listing = await treq.get(f"{base}/?state=build")
        listed = (await listing.content()).decode()
    finally:
        await port.stopListening()
    assert response.code == 200, body
    assert "module-build-macros-0.1-1.module+f40+1+c0ffee00" in body
    assert 'href="https://koji.example.org/koji/taskinfo?taskID=321"' in body
    assert 'href="https://koji.example.org/koji/buildinfo?buildID=77"' in body
    assert '<td class="duration" data-label="Took">42 s</td>' in body
    assert listing.code == 200 and f'href="/builds/{module_build_id}"' in listed
