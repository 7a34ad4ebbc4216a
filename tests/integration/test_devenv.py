"""The developer demo environment (``make run``): its repositories, its config,
its SPEC files and its git daemon, with real git and real rpmbuild."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import yaml
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import clientFromString, connectProtocol
from twisted.internet.error import ProcessDone
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.utils import getProcessOutputAndValue
from twisted.python.failure import Failure

from ridad.bus.framing import Frame
from ridad.bus.protocol import StompProtocol
from ridad.config.parse import parse_config
from ridad.devenv.broker import write_instance
from ridad.devenv.content import COMPONENTS
from ridad.devenv.daemons import start_git_daemon
from ridad.devenv.environment import DemoEnvironment, DemoEnvironmentError, prepare
from ridad.devenv.listen import describe
from ridad.devenv.main import instructions, status_command, submit_command
from tests.brokers import ActiveMQ
from tests.gitrepos import free_port
from tests.helpers import missing, wait_for

GIT_TIMEOUT_SECONDS = 30
LISTENER_TIMEOUT_SECONDS = 30.0
REPO = Path(__file__).resolve().parents[2]
PREFIX = "/topic/VirtualTopic.eng.rida."


@pytest.fixture
def reactor() -> Any:
    """The reactor pytest-twisted runs."""
    from twisted.internet import reactor as running_reactor

    return running_reactor


def git(*args: str) -> str:
    """Run git (ignoring the user's configuration) and return its stdout."""
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    result = subprocess.run(
        ["git", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT_SECONDS,
    )
    return result.stdout.strip()


def show(repository: Path, path: str) -> str:
    """Return a file's text on the ``main`` branch of a bare repository."""
    return git("--git-dir", str(repository), "show", f"main:{path}")


def repositories(environment: DemoEnvironment) -> dict[Path, str]:
    """Map every demo repository to the one file its ``main`` branch holds."""
    found = {environment.module_repository: "demo.yaml"}
    for name, repository in environment.component_repositories.items():
        found[repository] = f"{name}.spec"
    return found


@pytest_twisted.ensureDeferred
async def test_prepare_creates_bare_repositories_with_one_file_on_main(
    tmp_path: Path, reactor: Any
) -> None:
    """Each demo repository is bare, has HEAD on main, and main holds its one file."""
    environment = await prepare(tmp_path / "run", reactor)
    assert environment.module_repository == tmp_path / "run/git/modules/demo.git"
    assert sorted(environment.component_repositories) == [
        "demo-app",
        "demo-data",
        "demo-lib",
    ]
    for repository, filename in repositories(environment).items():
        git_dir = ("--git-dir", str(repository))
        assert git(*git_dir, "rev-parse", "--is-bare-repository") == "true"
        assert git(*git_dir, "symbolic-ref", "HEAD") == "refs/heads/main"
        assert git(*git_dir, "ls-tree", "--name-only", "main") == filename
        identity = git(*git_dir, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "main")
        assert (
            identity
            == "ridad demo <demo@ridad.invalid>|ridad demo <demo@ridad.invalid>"
        )
    assert not list(environment.directory.glob("seed-*"))


@pytest_twisted.ensureDeferred
async def test_modulemd_has_three_components_in_two_batches(
    tmp_path: Path, reactor: Any
) -> None:
    """The module's document is modulemd v2 without name or stream, with 3 rpms in 2 batches."""
    environment = await prepare(tmp_path / "run", reactor)
    document = yaml.safe_load(show(environment.module_repository, "demo.yaml"))
    assert document["document"] == "modulemd"
    assert document["version"] == 2
    data = document["data"]
    assert "name" not in data and "stream" not in data
    assert data["summary"] and data["description"]
    assert data["license"] == {"module": ["MIT"]}
    assert data["dependencies"] == [
        {"buildrequires": {"platform": ["f40"]}, "requires": {"platform": ["f40"]}}
    ]
    rpms = data["components"]["rpms"]
    batches: dict[int, set[str]] = {}
    for name, component in rpms.items():
        assert component["rationale"]
        assert component["ref"] == "main"
        batches.setdefault(component["buildorder"], set()).add(name)
    assert batches == {1: {"demo-lib", "demo-data"}, 2: {"demo-app"}}


@pytest_twisted.ensureDeferred
async def test_config_holds_the_development_settings(
    tmp_path: Path, reactor: Any
) -> None:
    """ridad.yaml has exactly the development keys, and ridad's parser accepts it."""
    environment = await prepare(tmp_path / "run", reactor)
    text = environment.config_path.read_text()
    assert yaml.safe_load(text) == {
        "listen": "tcp:8080:interface=127.0.0.1",
        "database": {"dsn": "embedded"},
        "state_dir": str(tmp_path / "run" / "state"),
        "scm": {
            "allowed": ["git://127.0.0.1/modules/"],
            "rpms_default_repository": "git://127.0.0.1/rpms/",
            "rpms_allowed": [],
            "rpms_default_ref": "main",
        },
        "base_module_names": ["platform"],
        "api": {"max_body_bytes": 1048576, "maintenance": False},
        "koji": {
            "hub": "http://127.0.0.1:8099/kojihub",
            "auth": {"method": "password", "user": "ridad", "password": "ridad"},
            "base_module_tags": {"platform:f40": "f40-build"},
            "arches": ["x86_64"],
            "poll_interval_seconds": 1,
        },
        "messaging": {
            "stomp": {"endpoint": "tcp:127.0.0.1:61613"},
            "destination_prefix": "/topic/VirtualTopic.eng.rida.",
            "subscriptions": [{"destination": "/topic/koji.>", "format": "koji"}],
            "outbox_retention_days": 7,
        },
    }
    assert text.lstrip().startswith("#")
    config = parse_config(text)
    assert config.listen == "tcp:8080:interface=127.0.0.1"
    assert config.messaging is not None
    assert config.messaging.stomp.endpoint == "tcp:127.0.0.1:61613"
    assert [(s.destination, s.format) for s in config.messaging.subscriptions] == [
        ("/topic/koji.>", "koji")
    ]
    assert (environment.api_url, environment.scmurl) == (
        "http://127.0.0.1:8080",
        "git://127.0.0.1/modules/demo.git?#main",
    )


@pytest_twisted.ensureDeferred
async def test_preparing_again_reuses_everything_and_keeps_config_edits(
    tmp_path: Path, reactor: Any
) -> None:
    """A second prepare rewrites neither the config nor any repository."""
    first = await prepare(tmp_path / "run", reactor)
    edited = first.config_path.read_text().replace(
        "maintenance: false", "maintenance: true"
    )
    first.config_path.write_text(edited)
    heads = {
        r: git("--git-dir", str(r), "rev-parse", "main") for r in repositories(first)
    }

    second = await prepare(tmp_path / "run", reactor)

    assert second == first
    assert second.config_path.read_text() == edited
    assert {r: git("--git-dir", str(r), "rev-parse", "main") for r in heads} == heads


@pytest_twisted.ensureDeferred
async def test_prepare_redoes_a_first_run_interrupted_before_the_config(
    tmp_path: Path, reactor: Any
) -> None:
    """Leftover repositories without ridad.yaml are replaced by a complete set."""
    leftover = tmp_path / "run" / "git" / "modules" / "demo.git"
    leftover.mkdir(parents=True)
    (leftover / "junk").write_text("interrupted")

    environment = await prepare(tmp_path / "run", reactor)

    assert not (leftover / "junk").exists()
    assert "document: modulemd" in show(environment.module_repository, "demo.yaml")
    assert environment.config_path.exists()


@pytest_twisted.ensureDeferred
async def test_spec_files_build_with_rpmbuild(tmp_path: Path, reactor: Any) -> None:
    """Each SPEC file makes an SRPM with ``rpmbuild -bs --nodeps`` and a noarch rpm with -bb."""
    rpmbuild = shutil.which("rpmbuild")
    if rpmbuild is None:
        missing("rpmbuild is not installed (apt-get install -y rpm)")
    environment = await prepare(tmp_path / "run", reactor)
    topdir = tmp_path / "rpmbuild"
    dist = ".module+f40+1+1a2b3c4d"
    for name, repository in environment.component_repositories.items():
        spec = tmp_path / f"{name}.spec"
        spec.write_text(show(repository, f"{name}.spec"))
        for mode in ("-bs", "-bb"):
            args = [mode, "--nodeps", "--define", f"_topdir {topdir}"]
            args += ["--define", f"dist {dist}", str(spec)]
            running = getProcessOutputAndValue(
                rpmbuild, args, env=dict(os.environ), reactor=reactor
            )
            _, err, code = await running.addTimeout(120, reactor)
            assert code == 0, err.decode()
        assert (topdir / f"SRPMS/{name}-1.0-1{dist}.src.rpm").exists()
        assert (topdir / f"RPMS/noarch/{name}-1.0-1{dist}.noarch.rpm").exists()
    assert len(environment.component_repositories) == len(COMPONENTS)


@pytest_twisted.ensureDeferred
async def test_git_daemon_serves_the_module_repository(
    tmp_path: Path, reactor: Any
) -> None:
    """git daemon on a free port answers ls-remote of the module with main's commit."""
    environment = await prepare(tmp_path / "run", reactor)
    port = free_port()
    daemon = await start_git_daemon(reactor, environment, port=port)
    try:
        refs = git("ls-remote", f"git://127.0.0.1:{port}/modules/demo.git")
        component = git(
            "ls-remote", f"git://127.0.0.1:{port}/rpms/demo-app.git", "main"
        )
    finally:
        await daemon.stop()
    head = git("--git-dir", str(environment.module_repository), "rev-parse", "main")
    assert f"{head}\trefs/heads/main" in refs.splitlines()
    assert component.endswith("\trefs/heads/main")
    assert daemon.status is not None


@pytest_twisted.ensureDeferred
async def test_git_daemon_on_a_busy_port_fails_naming_the_port(
    tmp_path: Path, reactor: Any
) -> None:
    """Starting git daemon on a port in use fails with a message naming that port."""
    environment = await prepare(tmp_path / "run", reactor)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(DemoEnvironmentError) as raised:
            await start_git_daemon(reactor, environment, port=port)
    assert f"port {port} on 127.0.0.1 is already in use" in raised.value.message
    assert "make run" in raised.value.message


@pytest_twisted.ensureDeferred
async def test_curl_commands_submit_and_show_the_demo_build(
    tmp_path: Path, reactor: Any
) -> None:
    """The printed curl commands POST the demo scmurl and GET module build 1."""
    environment = await prepare(tmp_path / "run", reactor)
    assert submit_command(environment) == (
        "curl -i -X POST -H 'Content-Type: application/json'"
        """ -d '{"scmurl": "git://127.0.0.1/modules/demo.git?#main"}'"""
        " http://127.0.0.1:8080/rida/module-builds/"
    )
    assert status_command(environment) == (
        "curl -s http://127.0.0.1:8080/rida/module-builds/1"
    )


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
