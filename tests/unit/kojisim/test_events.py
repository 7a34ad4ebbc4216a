"""kojisim's bus messages: Koji's protonmsg sequences, sent in commit order, and
understood by ridad's own parser."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import koji
import pytest
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import Clock
from twisted.logger import LogLevel, capturedLogs
from twisted.python import usage

from ridad.bus.events import KojiEvent, parse_koji_message
from ridad.errors import BusUnavailable
from ridad.kojisim.hub import KojiHub
from ridad.kojisim.stomp_publisher import RecordingSink, StompSink
from ridad.kojisim.tap import Options, makeService
from tests.helpers import result_of
from tests.unit.kojisim.support import (
    HubClient,
    make_hub,
    run_until_idle,
    seed_module_tags,
)

ALPHA = "git+https://src.example.org/rpms/alpha.git?#0123456789abcdef"


@pytest.fixture
def sink() -> RecordingSink:
    """The hub's recorded bus messages."""
    return RecordingSink()


@pytest.fixture
def hub(
    clock: Clock, sink: RecordingSink, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KojiHub]:
    """A hub that emits its bus messages to ``sink``."""
    simulated = make_hub(
        clock, upload_dir=str(tmp_path_factory.mktemp("uploads")), event_sink=sink
    )
    yield simulated
    simulated.stop()


@pytest.fixture
def seeded(admin: HubClient, sink: RecordingSink) -> HubClient:
    """Module tags and target set up (Koji sends nothing for them), and the
    repo kojira makes of the build tag (its init and done); no messages kept."""
    seed_module_tags(admin)
    assert [m.destination for m in sink.messages] == [
        "/topic/koji.repo.init",
        "/topic/koji.repo.done",
    ]
    sink.messages.clear()
    return admin


def _addresses(sink: RecordingSink) -> list[str]:
    """The addresses of the recorded messages, without the default prefix."""
    return [d.removeprefix("/topic/koji.") for d in sink.destinations()]


def test_one_build_gives_koji_observed_sequence(
    hub: KojiHub, clock: Clock, seeded: HubClient, sink: RecordingSink
) -> None:
    """A build emits task.free/open, build.building/complete, build.tag, task.closed."""
    task_id = seeded.call("build", ALPHA, "mod")
    run_until_idle(hub, clock)
    assert _addresses(sink) == [
        "task.free",
        "task.open",
        "build.building",
        "build.complete",
        "build.tag",
        "task.closed",
    ]
    free, opened, building, complete, tagged, closed = sink.messages
    assert free.headers["id"] == str(task_id) and "old" not in free.headers
    assert (opened.headers["old"], opened.headers["new"]) == ("FREE", "OPEN")
    assert free.json()["info"]["request"].startswith("<?xml")
    assert opened.json()["info"]["request"][:2] == [ALPHA, "mod"]
    assert closed.json()["info"]["result"] is None
    body = complete.json()
    assert (body["old"], body["new"], body["info"]["nvr"]) == (0, 1, "alpha-1.0-1")
    assert (complete.headers["old"], complete.headers["new"]) == (
        "BUILDING",
        "COMPLETE",
    )
    assert building.json()["old"] is None and building.json()["btypes"] == {"rpm": None}
    assert tagged.headers["tag"] == "mod" and tagged.headers["user"] == "admin"
    assert tagged.json()["build"]["id"] == body["info"]["id"]


def test_headers_are_the_props_as_strings_plus_json_content_type(
    hub: KojiHub, clock: Clock, seeded: HubClient, sink: RecordingSink
) -> None:
    """Every message carries its props as strings, content-type and persistence."""
    seeded.call("build", ALPHA, "mod")
    run_until_idle(hub, clock)
    free = sink.messages[0]
    assert free.headers == {
        "type": "TaskStateChange",
        "id": "1",
        "method": "build",
        "attribute": "state",
        "new": "FREE",
        "content-type": "application/json",
        "persistent": "true",
    }
    assert all(isinstance(v, str) for m in sink.messages for v in m.headers.values())


def test_failed_build_fails_the_build_before_the_task(
    hub: KojiHub, clock: Clock, seeded: HubClient, sink: RecordingSink
) -> None:
    """A failing package gives build.failed then task.failed, and no tag."""
    hub.fail_packages.add("alpha")
    seeded.call("build", ALPHA, "mod")
    run_until_idle(hub, clock)
    assert _addresses(sink)[2:] == ["build.building", "build.failed", "task.failed"]
    assert "result" not in sink.messages[-1].json()["info"]


def test_new_repo_gives_init_then_done(
    hub: KojiHub, clock: Clock, seeded: HubClient, sink: RecordingSink
) -> None:
    """newRepo emits task.free/open, repo.init, repo.done (state INIT), task.closed."""
    task_id = seeded.call("newRepo", "mod-build")
    run_until_idle(hub, clock)
    assert _addresses(sink) == [
        "task.free",
        "task.open",
        "repo.init",
        "repo.done",
        "task.closed",
    ]
    init, done = sink.messages[2:4]
    repo_id = seeded.call("getRepo", "mod-build")["id"]
    assert init.headers["repo_id"] == done.headers["repo_id"] == str(repo_id)
    assert done.headers["task_id"] == str(task_id) and done.headers["expire"] == "false"
    body = done.json()
    assert (body["task_id"], body["repo"]["state"], body["repo"]["task_id"]) == (
        None,
        koji.REPO_STATES["INIT"],
        task_id,
    )
    assert sink.messages[-1].json()["info"]["result"] == [repo_id, init.json()["event"]]


def test_direct_tagging_and_untagging(
    hub: KojiHub, clock: Clock, seeded: HubClient, sink: RecordingSink
) -> None:
    """tagBuildBypass and untagBuild emit build.tag and build.untag at once."""
    seeded.call("build", ALPHA, "mod", {"skip_tag": True})
    run_until_idle(hub, clock)
    sink.clear()
    seeded.call("createTag", "other")
    seeded.call("packageListAdd", "other", "alpha", owner="admin")
    seeded.call("tagBuildBypass", "other", "alpha-1.0-1")
    seeded.call("untagBuild", "other", "alpha-1.0-1")
    assert _addresses(sink) == ["build.tag", "build.untag"]
    untag = sink.messages[1].json()
    assert untag["strict"] is True and untag["tag"]["name"] == "other"


def test_cancel_cancels_task_then_build(
    hub: KojiHub, clock: Clock, seeded: HubClient, sink: RecordingSink
) -> None:
    """Canceling a building task emits task.canceled, then build.canceled."""
    task_id = seeded.call("build", ALPHA, "mod")
    for _ in range(5):
        clock.advance(0.1)
    assert _addresses(sink)[-1] == "build.building"
    sink.clear()
    seeded.call("cancelTask", task_id)
    run_until_idle(hub, clock)
    assert _addresses(sink) == ["task.canceled", "build.canceled"]


def test_failed_calls_and_reads_emit_nothing(
    seeded: HubClient, sink: RecordingSink
) -> None:
    """A faulted call rolls back and sends nothing; reads send nothing."""
    seeded.fault_of("tagBuildBypass", "mod", "nosuch-1-1")
    seeded.call("listTagged", "mod")
    assert sink.messages == []


def test_custom_prefix(clock: Clock, tmp_path: Any) -> None:
    """The destination is the configured prefix plus the address."""
    sink = RecordingSink()
    hub = make_hub(
        clock, upload_dir=str(tmp_path), event_sink=sink, event_prefix="topic://koji."
    )
    client = HubClient(hub)
    client.login()
    client.call("createTag", "t")
    client.call("newRepo", "t")
    run_until_idle(hub, clock)
    hub.stop()
    assert sink.destinations()[0] == "topic://koji.task.free"


def test_parser_understands_everything_kojisim_emits(
    hub: KojiHub, clock: Clock, seeded: HubClient, sink: RecordingSink
) -> None:
    """parse_koji_message reads every emitted message (repo.init as None)."""
    task_id = seeded.call("build", ALPHA, "mod")
    run_until_idle(hub, clock)
    build = seeded.call("getBuild", "alpha-1.0-1")
    seeded.call("untagBuild", "mod", "alpha-1.0-1")
    repo_task = seeded.call("newRepo", "mod")
    run_until_idle(hub, clock)
    repo_id = seeded.call("getRepo", "mod")["id"]
    events = [
        parse_koji_message(m.destination, m.headers, m.body) for m in sink.messages
    ]
    common = {"source_format": "koji"}
    build_fields = {"task_id": task_id, "build_id": build["id"], "nvr": "alpha-1.0-1"}
    assert events == [
        KojiEvent(kind="task", task_id=task_id, state="free", **common),
        KojiEvent(kind="task", task_id=task_id, state="open", **common),
        KojiEvent(kind="build", state="building", **build_fields, **common),
        KojiEvent(kind="build", state="complete", **build_fields, **common),
        KojiEvent(kind="tag", tag="mod", **build_fields, **common),
        KojiEvent(kind="task", task_id=task_id, state="closed", **common),
        KojiEvent(kind="untag", tag="mod", **build_fields, **common),
        KojiEvent(kind="task", task_id=repo_task, state="free", **common),
        KojiEvent(kind="task", task_id=repo_task, state="open", **common),
        None,
        KojiEvent(
            kind="repo",
            task_id=repo_task,
            repo_id=repo_id,
            tag="mod",
            state="ready",
            **common,
        ),
        KojiEvent(kind="task", task_id=repo_task, state="closed", **common),
    ]


class FakeBus:
    """A publisher whose sends complete when the test says."""

    def __init__(self) -> None:
        """Nothing sent yet."""
        self.pending: list[tuple[str, bytes, Mapping[str, str], Deferred[None]]] = []
        self.fail_next = False

    def publish(
        self, destination: str, body: bytes, headers: Mapping[str, str]
    ) -> Deferred[None]:
        """Start one send."""
        if self.fail_next:
            self.fail_next = False
            return fail(BusUnavailable("broker down"))
        done: Deferred[None] = Deferred()
        self.pending.append((destination, body, headers, done))
        return done


def test_stomp_sink_sends_one_at_a_time_in_order() -> None:
    """The sink waits for each send before the next, keeping emit order."""
    bus = FakeBus()
    sink = StompSink(publisher=bus)
    sink.emit("/topic/koji.a", {"x": "1"}, b"{}")
    sink.emit("/topic/koji.b", {}, b"{}")
    assert [p[0] for p in bus.pending] == ["/topic/koji.a"]
    assert bus.pending[0][2] == {"x": "1"} and sink.queued == 1
    idle = sink.idle()
    bus.pending[0][3].callback(None)
    assert [p[0] for p in bus.pending] == ["/topic/koji.a", "/topic/koji.b"]
    assert not idle.called
    bus.pending[1][3].callback(None)
    assert result_of(idle) is None and sink.sent == 2


def test_stomp_sink_logs_and_drops_a_failed_send() -> None:
    """A failed publish is logged at warn and the next message still goes."""
    bus = FakeBus()
    bus.fail_next = True
    sink = StompSink(publisher=bus)
    with capturedLogs() as events:
        sink.emit("/topic/koji.a", {}, b"{}")
    sink.emit("/topic/koji.b", {}, b"{}")
    assert [p[0] for p in bus.pending] == ["/topic/koji.b"]
    assert sink.dropped == 1
    [event] = events
    assert event["log_level"] == LogLevel.warn and event["topic"] == "/topic/koji.a"


def test_stomp_sink_drops_beyond_its_queue_limit() -> None:
    """With the queue full, new messages are dropped with a warning."""
    bus = FakeBus()
    sink = StompSink(publisher=bus, max_queued=1)
    with capturedLogs() as events:
        for name in "abc":
            sink.emit(f"/topic/koji.{name}", {}, b"{}")
    assert sink.dropped == 1 and [e["topic"] for e in events] == ["/topic/koji.c"]


def test_stomp_sink_with_synchronous_publisher_drains_at_once() -> None:
    """A publisher that completes at once gets every message, in order."""
    sent: list[str] = []

    class Immediate:
        def publish(
            self, destination: str, body: bytes, headers: Mapping[str, str]
        ) -> Deferred[None]:
            sent.append(destination)
            return succeed(None)

    sink = StompSink(publisher=Immediate())
    for name in "abc":
        sink.emit(name, {}, b"")
    assert sent == ["a", "b", "c"] and result_of(sink.idle()) is None


# --- twistd kojisim --stomp ----------------------------------------------------


def _parse(*argv: str) -> Options:
    """Parse a kojisim command line."""
    options = Options()
    options.parseOptions(list(argv))
    return options


def test_stomp_options_default_to_koji_topic_prefix() -> None:
    """--stomp takes an endpoint; the prefix defaults to /topic/koji."""
    options = _parse(
        "--stomp", "tcp:localhost:61613", "--stomp-login", "k", "--stomp-passcode", "p"
    )
    assert (options["stomp"], options["stomp-prefix"]) == (
        "tcp:localhost:61613",
        "/topic/koji.",
    )
    assert (options["stomp-login"], options["stomp-passcode"]) == ("k", "p")
    assert _parse()["stomp"] is None


@pytest.mark.parametrize(
    "argv",
    [
        ("--stomp", "tcp:localhost:61613", "--stomp-login", "k"),
        ("--stomp", "tcp:localhost:61613", "--stomp-passcode", "p"),
        ("--stomp-login", "k", "--stomp-passcode", "p"),
    ],
)
def test_stomp_credentials_go_together_and_need_stomp(argv: tuple[str, ...]) -> None:
    """A login without passcode (or either without --stomp) is refused."""
    with pytest.raises(usage.UsageError):
        _parse(*argv)


def test_make_service_without_stomp_has_no_bus(tmp_path: Any) -> None:
    """Without --stomp the tree is the hub and its HTTP server only."""
    service = makeService(_parse("--listen", "tcp:0", "--work-dir", str(tmp_path)))
    assert len(list(service)) == 2


def test_make_service_with_stomp_starts_the_bus_first(tmp_path: Any) -> None:
    """With --stomp the bus connection is the first child, so it stops last."""
    from ridad.bus.connection import BusConnection

    options = _parse(
        "--listen", "tcp:0", "--work-dir", str(tmp_path),
        "--stomp", "tcp:localhost:61613",
    )  # fmt: skip
    service = makeService(options)
    children = list(service)
    assert len(children) == 3 and not service.running
    assert isinstance(children[0], BusConnection)
