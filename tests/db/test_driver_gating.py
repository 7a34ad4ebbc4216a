"""Gating done -> ready on Greenwave, cycle by cycle on a fake clock: the
driver against kojisim in this process, real PostgreSQL, and the Greenwave
stand-in on 127.0.0.1 (a real socket, so the reactor runs it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_twisted
from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.logger import LogLevel, capturedLogs
from twisted.web.client import Agent, HTTPConnectionPool

from ridad.db.pool import Pool
from ridad.domain.states import ModuleState
from ridad.scheduler.events import GreenwaveEventListener
from ridad.transitions import Transitions
from tests.db.gating_rig import (
    HELD,
    PASSED,
    RECHECK_SECONDS,
    GatedRig,
    decision_update,
    forced_done,
    held_build,
    make_driver,
    make_gate,
    nvr_of,
)
from tests.db.test_driver import EPOCH, platform_build
from tests.db.test_transitions import new_build
from tests.fakes.greenwave import CONTEXT, SUBJECT_TYPE, GreenwaveStandIn
from tests.unit.koji.simworld import SimWorld, make_sim_world
from tests.unit.kojisim.support import HubClient


@pytest.fixture
def world(tmp_path: Path) -> Iterator[SimWorld]:
    """kojisim with the platform's build tag, on a fake clock at 2026-12-01."""
    made = make_sim_world(str(tmp_path / "uploads"))
    made.clock.advance(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    admin = HubClient(made.sim)
    admin.login()
    admin.call("createTag", "f40-build", arches="x86_64")
    yield made
    made.sim.stop()


@pytest_twisted.async_yield_fixture
async def rig(pool: Pool, world: SimWorld) -> AsyncIterator[GatedRig]:
    """A gated driver on the test database, kojisim and the stand-in."""
    standin = GreenwaveStandIn()
    port = standin.listen(reactor)
    http_pool = HTTPConnectionPool(reactor, persistent=False)
    http = HTTPClient(Agent(reactor, pool=http_pool))
    transitions = Transitions(pool=pool, clock=world.clock)
    url = f"http://127.0.0.1:{port.getHost().port}/api/v1.0"
    gate = make_gate(http, url, transitions, world)
    driver = make_driver(pool, world, transitions, gate)
    made = GatedRig(pool, world, transitions, standin, port, http, driver, gate)
    yield made
    await made.port.stopListening()
    await http_pool.closeCachedConnections()


@pytest_twisted.ensureDeferred
async def test_unsatisfied_decision_holds_the_build_done_with_the_summary(
    rig: GatedRig,
) -> None:
    """Greenwave finds the required test missing: the build stays done with
    Greenwave's summary as its reason, announced once, and asked about once
    until the re-check is due."""
    done = await held_build(rig)
    assert done.build.state_reason == HELD
    subject = nvr_of(done.build)
    assert subject == f"one-main-{done.build.version}.{done.build.context}"
    assert rig.standin.decisions() == [
        {
            "decision_context": CONTEXT,
            "product_version": "rhel-8",
            "subject_type": SUBJECT_TYPE,
            "subject_identifier": subject,
            "verbose": False,
        }
    ]
    for _ in range(3):
        await rig.cycle()
    assert len(rig.standin.decisions()) == 1
    again = await rig.read(done.build.id)
    assert again.build.state is ModuleState.DONE
    assert again.build.time_completed is None
    messages = await rig.module_messages()
    assert [(m["old_state"], m["state"], m["state_reason"]) for m in messages][-2:] == [
        ("build", "done", None),
        ("done", "done", HELD),
    ]
    assert (await rig.trace(done.build.id))[-1] == ("done", "done", HELD)


@pytest_twisted.ensureDeferred
async def test_decision_update_on_the_bus_releases_the_build(rig: GatedRig) -> None:
    """A decision update about the held build makes the driver ask again at
    the next cycle; Greenwave now satisfied, the build is ready."""
    done = await held_build(rig)
    pokes: list[int] = []
    listener = GreenwaveEventListener(gate=rig.gate, poke=lambda: pokes.append(1))
    destination = "/topic/VirtualTopic.eng.greenwave.decision.update"
    listener.handle(destination, {}, decision_update("other-1-1.c0ffee00"))
    listener.handle(
        destination, {}, decision_update(nvr_of(done.build), context="other")
    )
    listener.handle(destination, {}, b"{not json")
    assert (listener.received, listener.matched, listener.dropped, pokes) == (
        3,
        0,
        1,
        [],
    )
    await rig.cycle()
    assert len(rig.standin.decisions()) == 1
    rig.standin.passes(nvr_of(done.build))
    listener.handle(destination, {}, decision_update(nvr_of(done.build)))
    assert (listener.matched, pokes) == (1, [1])
    await rig.cycle()
    ready = await rig.read(done.build.id)
    assert ready.build.state is ModuleState.READY
    assert ready.build.state_reason == PASSED
    assert ready.build.time_completed is not None
    assert len(rig.standin.decisions()) == 2
    last = (await rig.module_messages())[-1]
    assert (last["old_state"], last["state"], last["state_reason"]) == (
        "done",
        "ready",
        PASSED,
    )
    listener.handle(destination, {}, decision_update(nvr_of(done.build)))
    assert listener.matched == 1  # a ready build is no longer gated


@pytest_twisted.ensureDeferred
async def test_periodic_check_releases_the_build(rig: GatedRig) -> None:
    """Without any message, the held build is asked about again once the
    re-check interval has passed, and then is ready."""
    done = await held_build(rig)
    rig.standin.passes(nvr_of(done.build))
    rig.world.clock.advance(RECHECK_SECONDS - 1)
    await rig.cycle()
    assert (await rig.read(done.build.id)).build.state is ModuleState.DONE
    assert len(rig.standin.decisions()) == 1
    rig.world.clock.advance(1)
    await rig.cycle()
    ready = await rig.read(done.build.id)
    assert ready.build.state is ModuleState.READY
    assert ready.build.state_reason == PASSED


@pytest_twisted.ensureDeferred
async def test_changed_reason_is_announced_again(rig: GatedRig) -> None:
    """A re-check with a new summary (the test now failed) updates the reason
    and announces it; an unchanged one writes nothing."""
    done = await held_build(rig)
    before = len(await rig.module_messages())
    rig.world.clock.advance(RECHECK_SECONDS)
    await rig.cycle()
    assert len(await rig.module_messages()) == before
    rig.standin.fails(nvr_of(done.build))
    rig.world.clock.advance(RECHECK_SECONDS)
    await rig.cycle()
    failed = HELD.replace("1 result missing", "1 test failed").replace(
        "test-result-missing", "test-result-failed"
    )
    again = await rig.read(done.build.id)
    assert (again.build.state, again.build.state_reason) == (ModuleState.DONE, failed)
    messages = await rig.module_messages()
    assert len(messages) == before + 1
    assert (messages[-1]["state"], messages[-1]["state_reason"]) == ("done", failed)


@pytest_twisted.ensureDeferred
async def test_greenwave_down_never_fails_the_build(rig: GatedRig) -> None:
    """Greenwave unreachable when the build is done: it stays done, saying
    so, with a warning logged; Greenwave back and satisfied, the next
    periodic check makes it ready."""
    number = rig.port.getHost().port
    await rig.port.stopListening()
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    with capturedLogs() as events:
        done = await rig.cycle_until(
            module_build_id, ModuleState.DONE, ModuleState.FAILED
        )
        for _ in range(2):
            await rig.cycle()
    assert done.build.state is ModuleState.DONE
    reason = (await rig.read(module_build_id)).build.state_reason
    assert reason is not None
    assert reason.startswith(
        "Waiting for Greenwave: it could not be asked (Greenwave cannot be reached"
        " (policies): ConnectionRefusedError:"
    )
    warnings = [e for e in events if e.get("log_level") is LogLevel.warn and "nvr" in e]
    assert len(warnings) == 1
    assert warnings[0]["module_build_id"] == module_build_id
    assert warnings[0]["delay_seconds"] == RECHECK_SECONDS
    rig.port = rig.standin.listen(reactor, number)
    rig.standin.passes(nvr_of(done.build))
    rig.world.clock.advance(RECHECK_SECONDS)
    await rig.cycle()
    ready = await rig.read(module_build_id)
    assert ready.build.state is ModuleState.READY
    assert ready.build.state_reason == PASSED


@pytest_twisted.ensureDeferred
async def test_greenwave_errors_keep_the_last_decision(rig: GatedRig) -> None:
    """Greenwave answering 503 at a re-check leaves the build done with the
    reason of its last decision; nothing fails, nothing is announced."""
    done = await held_build(rig)
    before = await rig.module_messages()
    rig.standin.error_status = 503
    rig.world.clock.advance(RECHECK_SECONDS)
    await rig.cycle()
    again = await rig.read(done.build.id)
    assert (again.build.state, again.build.state_reason) == (ModuleState.DONE, HELD)
    assert await rig.module_messages() == before
    rig.standin.error_status = None
    rig.standin.passes(nvr_of(done.build))
    rig.world.clock.advance(RECHECK_SECONDS)
    await rig.cycle()
    assert (await rig.read(done.build.id)).build.state is ModuleState.READY


@pytest_twisted.ensureDeferred
async def test_restarted_driver_asks_at_once_and_without_gate_releases(
    rig: GatedRig,
) -> None:
    """A new leader asks about a held build in its first cycle; a driver
    without a greenwave section moves a done build to ready at once."""
    done = await held_build(rig)
    driver, _ = rig.new_driver()
    await driver.cycle(EPOCH)
    assert len(rig.standin.decisions()) == 2
    assert (await rig.read(done.build.id)).build.state is ModuleState.DONE
    ungated, _ = rig.new_driver(gated=False)
    await ungated.cycle(EPOCH)
    ready = await rig.read(done.build.id)
    assert ready.build.state is ModuleState.READY
    assert ready.build.state_reason is None
    assert len(rig.standin.decisions()) == 2


@pytest_twisted.ensureDeferred
async def test_record_gating_decision_leaves_a_build_that_is_not_done(
    rig: GatedRig,
) -> None:
    """The intent writes nothing for a build that is no longer done."""
    module_build_id, _ = await rig.transitions.create_module_build(new_build("two"))
    written = await rig.transitions.record_gating_decision(
        module_build_id, satisfied=True, reason="x", epoch=EPOCH
    )
    assert written.build.state is ModuleState.INIT
    assert await rig.trace(module_build_id) == [(None, "init", None)]


@pytest_twisted.ensureDeferred
async def test_greenwave_down_is_asked_once_per_interval_not_per_build(
    rig: GatedRig,
) -> None:
    """With Greenwave failing, one build's question counts for all: another
    build done in the meantime waits for the next interval without asking,
    saying why; once Greenwave answers, both are released in one cycle."""
    rig.standin.error_status = 503
    first = (await held_build(rig)).build.id
    second = await forced_done(rig, "two")
    await rig.cycle()
    assert [p for _, p, _ in rig.standin.requests] == ["policies"]
    reason = (
        "Waiting for Greenwave: it could not be asked (Greenwave answered the"
        " policies request with HTTP 503: The stand-in is told to fail)"
    )
    builds = [(await rig.read(i)).build for i in (first, second)]
    assert [(b.state, b.state_reason) for b in builds] == [
        (ModuleState.DONE, reason)
    ] * 2
    rig.world.clock.advance(RECHECK_SECONDS)
    await rig.cycle()
    assert [p for _, p, _ in rig.standin.requests] == ["policies"] * 2
    rig.standin.error_status = None
    for build in builds:
        rig.standin.passes(nvr_of(build))
    rig.world.clock.advance(RECHECK_SECONDS)
    await rig.cycle()
    states = [(await rig.read(i)).build.state for i in (first, second)]
    assert states == [ModuleState.READY] * 2
