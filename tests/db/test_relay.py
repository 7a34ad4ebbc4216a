"""The outbox relay against real PostgreSQL with a recording publisher."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest_twisted
from twisted.internet import reactor

from ridad.db.outbox import OutboxRelayStore
from ridad.domain.builds import NewComponent, NewModuleBuild
from ridad.domain.states import ModuleState
from ridad.outbox.relay import OutboxRelay
from ridad.transitions import Transitions
from tests.fakes.recording_publisher import RecordingPublisher

PREFIX = "/topic/VirtualTopic.eng.rida."


def new_build(name: str) -> NewModuleBuild:
    return NewModuleBuild(
        name=name,
        stream="main",
        version=1,
        context="c0ffee00",
        owner="anonymous",
        scmurl=f"git://h/modules/{name}.git?#main",
        scm_commit="0" * 40,
        branch="main",
        modulemd="document: modulemd",
        build_context="b",
        runtime_context="r",
        buildrequires={},
        requires={},
        components=(
            NewComponent(
                name="a",
                package="a",
                repository="git://h/rpms/a",
                ref="main",
                scm_commit="1" * 40,
                batch=2,
            ),
        ),
    )


def relay_for(pool, publisher) -> OutboxRelay:
    return OutboxRelay(
        store=OutboxRelayStore(pool=pool),
        publisher=publisher,
        clock=reactor,
        destination_prefix=PREFIX,
        retention=timedelta(days=7),
    )


@pytest_twisted.ensureDeferred
async def test_relay_sends_in_order_once_and_marks_sent(pool) -> None:
    """Pending messages go out in write order, valid, and are marked sent."""
    transitions = Transitions(pool=pool, clock=reactor)
    first, _ = await transitions.create_module_build(new_build("one"))
    second, _ = await transitions.create_module_build(new_build("two"))
    await transitions.change_module_state(first, ModuleState.WAIT, None)
    publisher = RecordingPublisher(prefix=PREFIX)
    relay = relay_for(pool, publisher)
    assert await relay.drain() == 3
    bodies = [json.loads(m.body) for m in publisher.messages]
    assert [(b["id"], b["state"]) for b in bodies] == [
        (first, "init"),
        (second, "init"),
        (first, "wait"),
    ]
    assert await relay.drain() == 0
    rows = await pool.run_query("SELECT count(*) AS n FROM outbox WHERE sent IS NULL")
    assert rows[0]["n"] == 0


@pytest_twisted.ensureDeferred
async def test_broker_down_keeps_messages_for_later(pool) -> None:
    """With the broker down nothing is marked sent; later all go, same ids."""
    transitions = Transitions(pool=pool, clock=reactor)
    await transitions.create_module_build(new_build("one"))
    publisher = RecordingPublisher(prefix=PREFIX)
    publisher.down = True
    relay = relay_for(pool, publisher)
    try:
        await relay.drain()
    except Exception as e:  # noqa: BLE001
        assert "down" in str(e)
    rows = await pool.run_query(
        "SELECT msg_id::text AS msg_id FROM outbox WHERE sent IS NULL"
    )
    assert len(rows) == 1
    publisher.down = False
    assert await relay.drain() == 1
    assert publisher.messages[0].msg_id == rows[0]["msg_id"]


@pytest_twisted.ensureDeferred
async def test_sent_messages_are_pruned_after_retention(pool) -> None:
    """Sent rows older than the retention are deleted; unsent ones never."""
    transitions = Transitions(pool=pool, clock=reactor)
    await transitions.create_module_build(new_build("one"))
    await transitions.create_module_build(new_build("two"))
    await pool.run_operation(
        "UPDATE outbox SET sent = now() - interval '30 days'"
        " WHERE id = (SELECT min(id) FROM outbox)"
    )
    store = OutboxRelayStore(pool=pool)
    from datetime import UTC, datetime

    assert await store.prune(datetime.now(UTC) - timedelta(days=7)) == 1
    rows = await pool.run_query("SELECT count(*) AS n FROM outbox")
    assert rows[0]["n"] == 1
