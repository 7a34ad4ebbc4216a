"""Event streams (Server-Sent Events) of two ``twistd ridad`` processes on
one database while a module builds in kojisim: both stream every change the
leader makes, a stream cut by the network resumes with ``Last-Event-ID``
without losing or repeating an event, and ``rida watch`` follows the
stream instead of its (here ten-minute) poll interval."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest_twisted
from twisted.internet import reactor

from tests.integration.kojiworld import KojiWorld
from tests.integration.processes import Processes, RidadProcess, sleep
from tests.integration.sse import SseReader
from tests.integration.support import GitWorld, modulemd_text
from tests.integration.test_cli import rida_in_process
from tests.integration.test_crash import crash_config, submit, wait_for_build
from tests.netproxy import FreezableProxy

THREE_BATCHES = {
    "alpha": {"rationale": "first", "buildorder": 1},
    "beta": {"rationale": "second", "buildorder": 2},
    "gamma": {"rationale": "third", "buildorder": 3},
}


async def roles(pair: list[RidadProcess]) -> tuple[RidadProcess, RidadProcess]:
    """The active scheduler and the standby of the pair."""
    for _ in range(100):
        seen = [(await p.get_json("/health"))[1]["scheduler"] for p in pair]
        if sorted(seen) == ["active", "standby"]:
            return (pair[0], pair[1]) if seen[0] == "active" else (pair[1], pair[0])
        await sleep(0.1)
    raise AssertionError(f"no leader among the pair: {seen}")


def outbox_ids(dsn: str, module_build_id: int) -> list[int]:
    """The ids of every outbox row of the build, in order."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM outbox WHERE module_build_id = %s ORDER BY id",
            (module_build_id,),
        )
        return [row[0] for row in cursor.fetchall()]


def building(reader: SseReader) -> bool:
    """Whether ``reader`` has read a component starting to build."""
    return any(
        event == "component.state.change" and body["state"] == "building"
        for _, event, body in reader.bodies()
    )


async def read_to(reader: SseReader, last_id: int) -> None:
    """Wait until ``reader`` has read event ``last_id``, then close it."""
    await reader.until(
        lambda: bool(reader.events) and int(reader.events[-1].id or 0) >= last_id
    )
    reader.close()


@pytest_twisted.ensureDeferred
async def test_both_processes_stream_every_change_and_a_cut_stream_resumes(
    database_dsn: str,
    git_world: GitWorld,
    koji_world: KojiWorld,
    processes: Processes,
    tmp_path: Path,
) -> None:
    """Submitted to the standby and built by the leader, every change of the
    build reaches a stream on each process, in order; the standby's stream,
    cut by the network mid-build, resumes after its last id; rida watch
    with a 600 s interval ends when the build does."""
    koji_world.hub.build_seconds = 0.5
    for name in THREE_BATCHES:
        git_world.rpm(name)
    config = crash_config(database_dsn, git_world, tmp_path, koji_world.url)
    active, standby = await roles(
        [await processes.start("a", config), await processes.start("b", config)]
    )
    proxy = FreezableProxy("127.0.0.1", int(standby.base_url.rsplit(":", 1)[1]))
    port = reactor.listenTCP(0, proxy, interface="127.0.0.1")
    try:
        via_proxy = f"http://127.0.0.1:{port.getHost().port}"
        on_active = SseReader(active.url("/rida/events?name=demo"))
        on_standby = SseReader(via_proxy + "/rida/events?name=demo")
        await on_active.open()
        await on_standby.open()

        module_build_id = await submit(standby, git_world, modulemd_text(THREE_BATCHES))
        watch = rida_in_process(
            tmp_path, "--server", standby.base_url, "watch", str(module_build_id),
            "--interval", "600",
        )  # fmt: skip
        await on_standby.until(lambda: building(on_standby))
        seen_before_cut = len(on_standby.events)
        proxy.cut()
        await on_standby.ended
        await on_standby.open()
        done = await wait_for_build(
            standby, module_build_id, lambda b: b["state"] == "ready", "ready"
        )
        status, out, err = await watch
    finally:
        await port.stopListening()
    assert status == 0, out + err
    assert ": ready, 4/4 components done" in out.splitlines()[-1], out

    expected = outbox_ids(database_dsn, module_build_id)
    await read_to(on_active, expected[-1])
    await read_to(on_standby, expected[-1])
    assert [i for i, _, _ in on_active.bodies()] == expected
    assert [i for i, _, _ in on_standby.bodies()] == expected
    assert on_standby.connected == 2 and 0 < seen_before_cut < len(expected)
    assert on_active.bodies() == on_standby.bodies()
    _, event, body = on_active.bodies()[-1]
    assert (event, body["state"]) == ("module.state.change", "ready")
    assert body["id"] == module_build_id == done["id"]
