"""``KojiHub.failure_logs``: the tail of the log that says why a task failed.

Against kojisim in process (its failed builds write the recorded host's four
logs into the build task), and against a scripted hub for what kojisim does
not do: kojid's failed ``buildArch`` subtask holding the logs, logs larger
than what is read, and the real hub's recorded answers (128-132).
"""

from __future__ import annotations

import base64
from collections.abc import Coroutine
from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionRefusedError

from ridad.domain.task_logs import MAX_LOG_BYTES, TaskLogTail
from ridad.errors import KojiUnavailable
from ridad.koji.hub import KojiHub
from ridad.kojisim.build_logs import BUILDROOT_FAILURE, MOCK_FAILURE
from tests.helpers import failure_of, result_of
from tests.unit.koji.fakehub import World, make_world
from tests.unit.koji.simworld import SimWorld, make_sim_world
from tests.unit.kojisim.support import HubClient, seed_module_tags

ALPHA = "git+https://src.example.org/rpms/alpha.git?#0123456789abcdef"


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return result_of(Deferred.fromCoroutine(coroutine))


@pytest.fixture
def world(tmp_path: Any) -> SimWorld:
    """ridad's client on a kojisim hub whose module tags exist."""
    made = make_sim_world(str(tmp_path))
    admin = HubClient(made.sim)
    admin.login()
    seed_module_tags(admin)
    _run(made.client.login())
    return made


def _failed(world: SimWorld, target: str = "mod") -> tuple[int, dict[int, str]]:
    """Build alpha for ``target`` in kojisim until it failed; its task and reasons."""
    [submitted] = _run(world.koji.submit_builds([(ALPHA, target)]))
    world.run_until_idle()
    task_id = submitted.task_id
    return task_id, _run(world.koji.failure_reasons([task_id]))


def _logs(world: SimWorld, reasons: dict[int, str]) -> tuple[Any, int]:
    """``failure_logs`` and how many requests it took."""
    before = world.client.round_trips
    tails = _run(world.koji.failure_logs(reasons))
    return tails, world.client.round_trips - before


def _lines(data: bytes) -> tuple[str, ...]:
    return tuple(data.decode().splitlines())


def test_a_failed_build_gives_the_last_40_lines_of_build_log(world: SimWorld) -> None:
    """The fault names build.log; its last 40 of 45 lines come back in two
    requests (children and listing together, then the download)."""
    world.sim.fail_packages.add("alpha")
    task_id, reasons = _failed(world)
    assert reasons == {task_id: MOCK_FAILURE}
    tails, trips = _logs(world, reasons)
    build_log = world.sim.task_output(task_id)["build.log"]
    assert len(_lines(build_log)) == 45
    assert tails == {
        task_id: TaskLogTail(task_id, "build.log", _lines(build_log)[-40:])
    }
    assert tails[task_id].lines[-1] == "[exit status 1]"
    assert trips == 2
    assert world.agent.sent[-2:] == [
        ("getTaskChildren", "listTaskOutput"),
        ("downloadTaskOutput",),
    ]


def test_a_buildroot_failure_gives_root_log(world: SimWorld) -> None:
    """A buildroot that cannot be installed: the fault names root.log, whose
    21 lines all come back, the package manager's refusal last."""
    world.sim.fail_buildroot_packages.add("alpha")
    task_id, reasons = _failed(world)
    assert reasons == {task_id: BUILDROOT_FAILURE}
    tails, _ = _logs(world, reasons)
    root_log = world.sim.task_output(task_id)["root.log"]
    assert tails == {task_id: TaskLogTail(task_id, "root.log", _lines(root_log))}
    assert tails[task_id].lines[-4] == (
        "No match for argument: pkgconfig(frobnicate) >= 2.0"
    )


def test_a_task_without_logs_gives_nothing_in_one_request(world: SimWorld) -> None:
    """A build for a target that does not exist fails before building: no
    output, no tail, no download."""
    task_id, reasons = _failed(world, "no-such-target")
    assert reasons == {task_id: "No such build target: no-such-target"}
    assert world.sim.task_output(task_id) == {}
    tails, trips = _logs(world, reasons)
    assert (tails, trips) == ({}, 1)
    assert _logs(world, {}) == ({}, 0)


def test_a_refused_entry_leaves_only_its_task_out(world: SimWorld) -> None:
    """A refused getTaskChildren still reads the task's own log; a refused
    download gives no tail (and raises nothing)."""
    world.sim.fail_packages.add("alpha")
    task_id, reasons = _failed(world)
    world.sim.fail_next("getTaskChildren", 1000, "no children today")
    tails, _ = _logs(world, reasons)
    assert tails[task_id].log == "build.log"
    world.sim.fail_next("downloadTaskOutput", 1, "<class 'OSError'>: boom")
    assert _logs(world, reasons) == ({}, 2)


def test_koji_unreachable_is_raised_after_one_attempt(world: SimWorld) -> None:
    """Each request gets one attempt: a refused connection is raised at once,
    without the backoff the client would otherwise wait."""
    world.sim.fail_packages.add("alpha")
    task_id, reasons = _failed(world)
    world.agent.refusals.append(ConnectionRefusedError())
    before = world.client.round_trips
    failure = failure_of(Deferred.fromCoroutine(world.koji.failure_logs(reasons)))
    assert failure.check(KojiUnavailable)
    assert world.client.round_trips - before == 1


# -- a scripted hub: kojid's subtasks, big logs, the recorded answers ---------


def _scripted(
    children: dict[int, list[dict[str, Any]]],
    files: dict[int, dict[str, bytes]],
) -> tuple[World, KojiHub]:
    """A hub with these subtasks and output files, answering as Koji does."""
    world = make_world()

    def list_output(task_id: int, stat: bool = False) -> Any:
        found = files.get(task_id, {})
        if not stat:
            return list(found)
        return {name: _stat(data) for name, data in found.items()}

    def download(task_id: int, name: str, offset: int = 0, size: int = -1) -> str:
        data = files[task_id][name]
        start = len(data) + offset if offset < 0 else offset
        end = len(data) if size < 0 else start + size
        return base64.b64encode(data[start:end]).decode()

    world.hub.methods.update(
        getTaskChildren=lambda task_id: children.get(task_id, []),
        listTaskOutput=list_output,
        downloadTaskOutput=download,
    )
    return world, KojiHub(client=world.client)


def _stat(data: bytes) -> dict[str, Any]:
    return {
        "st_atime": 1.5,
        "st_ctime": 1.5,
        "st_mtime": 1.5,
        "st_size": str(len(data)),
    }


def _child(task_id: int, method: str, state: int) -> dict[str, Any]:
    return {"id": task_id, "method": method, "state": state, "arch": "x86_64"}


def test_the_log_of_a_failed_buildarch_subtask_is_read() -> None:
    """With kojid the logs are in the failed buildArch, not in the build
    task: the canceled sibling and the closed SRPM build are passed over."""
    log = b"".join(b"line %d\n" % n for n in range(50))
    world, hub = _scripted(
        children={
            123: [
                _child(124, "buildSRPMFromSCM", 2),
                _child(125, "buildArch", 3),
                _child(126, "buildArch", 5),
            ]
        },
        files={124: {"build.log": b"srpm ok\n"}, 126: {"build.log": log}},
    )
    tails = _run(hub.failure_logs({123: MOCK_FAILURE}))
    assert tails == {
        123: TaskLogTail(126, "build.log", tuple(f"line {n}" for n in range(10, 50)))
    }
    methods = [(r.method, r.args) for r in world.hub.calls("multiCall")]
    assert [[c["methodName"] for c in args[0]] for _, args in methods] == [
        ["getTaskChildren", "listTaskOutput"],
        ["listTaskOutput"],
        ["downloadTaskOutput"],
    ]


def test_only_the_last_8_kib_of_a_big_log_are_downloaded() -> None:
    """A log of 20000 bytes: the download starts at size - 8192 and reads
    8192 bytes; the cut first line is dropped."""
    log = b"".join(b"%05d %s\n" % (n, b"x" * 93) for n in range(200))
    assert len(log) == 20000
    world, hub = _scripted(children={}, files={7: {"build.log": log}})
    tails = _run(hub.failure_logs({7: MOCK_FAILURE}))
    download = world.hub.calls("multiCall")[-1].args[0][0]
    assert download["methodName"] == "downloadTaskOutput"
    assert download["params"][:2] == [7, "build.log"]
    assert download["params"][2] == {
        "offset": 20000 - MAX_LOG_BYTES,
        "size": MAX_LOG_BYTES,
        "__starstar": True,
    }
    assert tails[7].lines == tuple(f"{n:05d} {'x' * 93}" for n in range(160, 200))


def test_the_recorded_hubs_answers_give_the_recorded_build_log() -> None:
    """Fed the real hub's answers for task 9 (129 no children, 131 the
    listing with sizes as strings, 132's base64 text in a string) and its
    fault (128), the tail is the recorded build.log's 15 lines."""
    from tests.contract.recordings import parse_document, plain, read_exchange
    from tests.data import KOJI_RECORDINGS

    def recorded(number: int) -> Any:
        (path,) = (KOJI_RECORDINGS / "cg").glob(f"{number:03d}-*.xml")
        return plain(parse_document(read_exchange(path).response_body)[1])

    log = base64.b64decode(recorded(132))
    world = make_world()
    world.hub.methods.update(
        getTaskChildren=lambda task_id: recorded(129),
        listTaskOutput=lambda task_id, stat=False: recorded(131),
        downloadTaskOutput=lambda task_id, name, offset=0, size=-1: recorded(132),
    )
    fault = recorded(128)["faultString"]
    tails = _run(KojiHub(client=world.client).failure_logs({9: fault}))
    assert tails == {9: TaskLogTail(9, "build.log", _lines(log))}
    assert len(tails[9].lines) == 15
    assert tails[9].lines[-3:] == (
        "RPM build errors:",
        "    Bad exit status from /var/tmp/rpm-tmp.x1SgHL (%build)",
        "[exit status 1]",
    )


@pytest.mark.parametrize(
    ("number", "method", "args", "kwargs"),
    [
        (128, "getTaskResult", (9,), {"raise_fault": False}),
        (129, "getTaskChildren", (9,), {}),
        (130, "listTaskOutput", (9,), {}),
        (131, "listTaskOutput", (9,), {"stat": True}),
        (132, "downloadTaskOutput", (9, "build.log"), {}),
        (133, "downloadTaskOutput", (9, "build.log"), {"offset": 779, "size": 400}),
        (134, "downloadTaskOutput", (9, "build.log"), {"offset": -200}),
        (136, "downloadTaskOutput", (9, "no-such.log"), {}),
    ],
)
def test_ridad_encodes_these_calls_as_the_recorded_koji_client_did(
    number: int, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """The request bodies of the calls ``failure_logs`` makes are the koji
    client's, byte for byte (keyword arguments the ``__starstar`` way)."""
    from ridad.koji.wire import encode_call
    from tests.contract.recordings import read_exchange
    from tests.data import KOJI_RECORDINGS

    (path,) = (KOJI_RECORDINGS / "cg").glob(f"{number:03d}-*.xml")
    assert encode_call(method, args, kwargs) == read_exchange(path).request_body
