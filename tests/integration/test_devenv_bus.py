"""The developer demo environment's bus (``make run``): the broker instance it
writes, the listener command it prints, and the listener itself against a
real ActiveMQ.

The demo's repositories, config and git daemon are in test_devenv_prepare.py.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import clientFromString, connectProtocol
from twisted.internet.error import ProcessDone
from twisted.internet.protocol import ProcessProtocol
from twisted.python.failure import Failure

from ridad.bus.framing import Frame
from ridad.bus.protocol import StompProtocol
from ridad.devenv.broker import write_instance
from ridad.devenv.environment import prepare
from ridad.devenv.listen import describe
from ridad.devenv.main import instructions
from tests.brokers import ActiveMQ
from tests.helpers import wait_for

LISTENER_TIMEOUT_SECONDS = 30.0
REPO = Path(__file__).resolve().parents[2]
PREFIX = "/topic/VirtualTopic.eng.rida."


@pytest_twisted.ensureDeferred
async def test_instructions_show_how_to_listen_to_the_bus(
    tmp_path: Path, reactor: Any
) -> None:
    """The start-up instructions include the listener command run with this Python."""
    environment = await prepare(tmp_path / "run", reactor)
    python = Path(sys.executable)
    if python.is_relative_to(Path.cwd()):
        python = python.relative_to(Path.cwd())
    assert f"    {python} -m ridad.devenv.listen\n" in instructions(environment)
    assert f"    {python} -m ridad.devenv.koji builds\n" in instructions(environment)
    assert f"in a browser: {environment.api_url}/ (metrics" in instructions(environment)


def test_broker_config_is_written_once_with_only_stomp_on_loopback(
    tmp_path: Path,
) -> None:
    """activemq.xml has one STOMP connector on 127.0.0.1:61613, KahaDB inside, and survives edits."""
    config = write_instance(tmp_path / "activemq")
    root = ElementTree.parse(config).getroot()
    core = "{http://activemq.apache.org/schema/core}"
    connectors = root.findall(f".//{core}transportConnector")
    assert [c.get("uri") for c in connectors] == [
        "stomp://127.0.0.1:61613?transport.closeAsync=false"
    ]
    kahadb = root.find(f".//{core}kahaDB")
    assert kahadb is not None
    assert kahadb.get("directory") == str(tmp_path / "activemq" / "data" / "kahadb")
    queues = root.findall(f".//{core}destinations/{core}queue")
    assert [q.get("physicalName") for q in queues] == [
        "Consumer.demo.VirtualTopic.eng.rida.>"
    ]
    assert "jetty" not in config.read_text()
    config.write_text(config.read_text() + "<!-- edited -->\n")
    write_instance(tmp_path / "activemq")
    assert config.read_text().endswith("<!-- edited -->\n")


def test_describe_puts_a_component_message_on_one_line() -> None:
    """A component message shows as destination, msg id, component:state and its fields."""
    frame = Frame(
        "MESSAGE",
        (
            ("destination", "/queue/Consumer.demo.VirtualTopic.eng.rida.>"),
            ("original-destination", f"{PREFIX}component.state.change"),
            ("rida-msg-id", "m-1"),
        ),
        json.dumps(
            {
                "module_build_id": 1,
                "component": "demo-lib",
                "state": "failed",
                "old_state": "building",
                "nvr": None,
                "task_id": 7,
                "state_reason": "build failed",
            }
        ).encode(),
    )
    assert describe(frame) == (
        f"{PREFIX}component.state.change m-1 demo-lib:failed module_build_id=1"
        ' task_id=7 old_state=building state_reason="build failed"'
    )


class _ListenerProcess(ProcessProtocol):
    """Collects a listener's stdout and stderr; remembers how it ended."""

    def __init__(self) -> None:
        self.out = ""
        self.err = ""
        self.ended: Deferred[BaseException] = Deferred()

    def outReceived(self, data: bytes) -> None:
        self.out += data.decode()

    def errReceived(self, data: bytes) -> None:
        self.err += data.decode()

    def processEnded(self, reason: Failure) -> None:
        self.ended.callback(reason.value)  # ProcessDone or ProcessTerminated


def _spawn_listener(reactor: Any, *args: str) -> tuple[_ListenerProcess, Any]:
    output = _ListenerProcess()
    argv = [sys.executable, "-m", "ridad.devenv.listen", *args]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    transport = reactor.spawnProcess(
        output, sys.executable, argv, env=env, path=str(REPO)
    )
    return output, transport


async def _publish(
    reactor: Any, endpoint: str, topic: str, body: dict[str, Any]
) -> None:
    stomp = await connectProtocol(
        clientFromString(reactor, endpoint), StompProtocol(clock=reactor)
    )
    try:
        await stomp.connect(login=None, passcode=None, vhost="/")
        await stomp.send(
            PREFIX + topic,
            json.dumps(body).encode(),
            {
                "rida-msg-id": body["msg_id"],
                "content-type": "application/json",
                "persistent": "true",
            },
        )
        await stomp.disconnect()
    finally:
        stomp.abort()


@pytest_twisted.ensureDeferred
async def test_listener_prints_each_message_until_interrupted(
    activemq: ActiveMQ, reactor: Any
) -> None:
    """The listener prints a module message as one line (as JSON with --json) and exits 0 on Ctrl-C."""
    queue = f"/queue/Consumer.test{uuid.uuid4().hex}.VirtualTopic.eng.rida.>"
    json_queue = queue.replace("Consumer.test", "Consumer.json")
    lines, lines_transport = _spawn_listener(
        reactor, "--broker", activemq.endpoint, "--destination", queue
    )
    bodies, bodies_transport = _spawn_listener(
        reactor, "--broker", activemq.endpoint, "--destination", json_queue, "--json"
    )
    msg_id = str(uuid.uuid4())
    message: dict[str, Any] = {
        "msg_id": msg_id,
        "id": 42,
        "name": "demo",
        "stream": "main",
        "version": "4020261127100000",
        "context": "6c81f848",
        "old_state": "wait",
        "state": "build",
        "state_reason": None,
    }
    try:
        await wait_for(
            lambda: "Listening to" in lines.err and "Listening to" in bodies.err,
            LISTENER_TIMEOUT_SECONDS,
            reactor,
        )
        await _publish(reactor, activemq.endpoint, "module.state.change", message)
        await wait_for(
            lambda: msg_id in lines.out and msg_id in bodies.out,
            LISTENER_TIMEOUT_SECONDS,
            reactor,
        )
    finally:
        for transport in (lines_transport, bodies_transport):
            transport.signalProcess("INT")
        ended = [await lines.ended, await bodies.ended]
    assert lines.out.splitlines() == [
        f"{PREFIX}module.state.change {msg_id} build module_build_id=42"
        " nsvc=demo:main:4020261127100000:6c81f848 old_state=wait"
    ]
    assert [json.loads(line) for line in bodies.out.splitlines()] == [message]
    assert [type(reason) for reason in ended] == [ProcessDone] * 2, (
        lines.err + bodies.err
    )
