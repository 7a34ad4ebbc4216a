"""The demo environment's message broker: a private ActiveMQ from Debian's package.

Its directory (``<dir>/activemq``) holds ``conf/`` (``activemq.xml`` and
``log4j.properties``, written once and then left to the developer),
``data/`` (KahaDB, so queued messages survive a restart) and ``activemq.log``.
"""

from __future__ import annotations

import os
from pathlib import Path

from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.error import ConnectError

from ridad.bus.protocol import StompProtocol
from ridad.devenv.content import (
    BROKER_DIR_NAME,
    BROKER_HOST,
    BROKER_PORT,
    activemq_xml,
    log4j_properties,
)
from ridad.devenv.environment import DemoEnvironment, DemoEnvironmentError, executable
from ridad.devenv.services import ChildProcess, DemoReactor, ListenAddress
from ridad.errors import BusUnavailable

ACTIVEMQ_HOME = Path("/usr/share/activemq")
INSTALL_COMMAND = "apt-get install -y activemq"
JVM_OPTIONS = ("-Xms64m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
BROKER_READY_TIMEOUT_SECONDS = 60.0
STOMP_PROBE_TIMEOUT_SECONDS = 2.0


def activemq_jar(home: Path = ACTIVEMQ_HOME) -> Path:
    """Find ActiveMQ's launcher.

    :return: the path of ``activemq.jar``.
    :raises DemoEnvironmentError: ActiveMQ is not installed; the message has the command.
    """
    jar = home / "bin" / "activemq.jar"
    if not jar.exists():
        raise DemoEnvironmentError(
            f"ActiveMQ is not installed ({jar} is missing); install it ({INSTALL_COMMAND})"
        )
    return jar


def write_instance(instance_dir: Path) -> Path:
    """Write the broker's configuration unless it exists (a developer may edit it).

    :return: the path of ``activemq.xml``.
    """
    conf = instance_dir / "conf"
    (instance_dir / "data").mkdir(parents=True, exist_ok=True)
    conf.mkdir(parents=True, exist_ok=True)
    files = {
        "log4j.properties": log4j_properties(str(instance_dir / "activemq.log")),
        "activemq.xml": activemq_xml(str(instance_dir)),  # last: marks completion
    }
    for name, text in files.items():
        path = conf / name
        if not path.exists():
            partial = path.with_name(name + ".partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(path)
    return conf / "activemq.xml"


async def stomp_answers(reactor: DemoReactor, host: str, port: int) -> bool:
    """Whether a STOMP CONNECT to ``host:port`` gets CONNECTED (then DISCONNECT)."""
    endpoint = TCP4ClientEndpoint(
        reactor, host, port, timeout=STOMP_PROBE_TIMEOUT_SECONDS
    )
    stomp = StompProtocol(
        clock=reactor, receipt_timeout_seconds=STOMP_PROBE_TIMEOUT_SECONDS
    )
    try:
        await connectProtocol(endpoint, stomp)
    except ConnectError:
        return False  # not listening yet
    try:
        await stomp.connect(login=None, passcode=None, vhost="/", heart_beat_ms=(0, 0))
        await stomp.disconnect()
    except BusUnavailable:
        return False  # listening, but not answering STOMP yet
    finally:
        stomp.abort()  # a no-op once the connection is closed
    return True


def activemq_broker(reactor: DemoReactor, environment: DemoEnvironment) -> ChildProcess:
    """Describe the private ActiveMQ, writing its configuration on first use.

    It is ready once a STOMP CONNECT on port 61613 is answered.

    :raises DemoEnvironmentError: java or ActiveMQ is not installed.
    """
    java = executable("java", "activemq")
    jar = activemq_jar()
    instance_dir = environment.directory / BROKER_DIR_NAME
    config = write_instance(instance_dir)
    argv = [
        java,
        *JVM_OPTIONS,
        f"-Dactivemq.home={ACTIVEMQ_HOME}",
        f"-Dactivemq.base={instance_dir}",
        f"-Dactivemq.conf={instance_dir / 'conf'}",
        f"-Dactivemq.data={instance_dir / 'data'}",
        "-jar",
        str(jar),
        "start",
        f"xbean:file:{config}",
    ]

    async def answers() -> bool:
        return await stomp_answers(reactor, BROKER_HOST, BROKER_PORT)

    return ChildProcess(
        name="activemq",
        reactor=reactor,
        argv=argv,
        env={**os.environ, "ACTIVEMQ_HOME": str(ACTIVEMQ_HOME)},
        probe=answers,
        ready_timeout_seconds=BROKER_READY_TIMEOUT_SECONDS,
        listens_on=ListenAddress(
            BROKER_HOST,
            BROKER_PORT,
            "Stop the program using it (often an ActiveMQ left by an earlier"
            " `make run`, or the system's own: `systemctl stop activemq`)",
        ),
        cwd=instance_dir,
    )
