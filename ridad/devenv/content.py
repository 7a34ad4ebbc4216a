"""The files of the demo environment: a modulemd document, SPEC files, a config.

Pure text rendering with no I/O, so tests can read the same values that
``ridad.devenv.environment.prepare`` writes to disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

MODULE_NAME = "demo"
BRANCH = "main"
GIT_HOST = "127.0.0.1"
API_LISTEN = "tcp:8080:interface=127.0.0.1"
COMMIT_USER_NAME = "ridad demo"
COMMIT_USER_EMAIL = "demo@ridad.invalid"


@dataclass(frozen=True)
class DemoComponent:
    """One rpm component of the demo module."""

    name: str
    buildorder: int
    summary: str
    rationale: str
    requires: tuple[str, ...] = ()


COMPONENTS: tuple[DemoComponent, ...] = (
    DemoComponent(
        name="demo-lib",
        buildorder=1,
        summary="Shared files of the ridad demo application",
        rationale="Shared files that demo-app requires; built in the first batch.",
    ),
    DemoComponent(
        name="demo-data",
        buildorder=1,
        summary="Data files of the ridad demo application",
        rationale="Data that demo-app requires; built beside demo-lib in the first batch.",
    ),
    DemoComponent(
        name="demo-app",
        buildorder=2,
        summary="The ridad demo application",
        rationale="The application itself; built in the second batch, after what it requires.",
        requires=("demo-lib", "demo-data"),
    ),
)


def modulemd_yaml() -> str:
    """Render the demo module's modulemd v2 stream document.

    The document has no ``name`` or ``stream``: ridad takes them from the
    repository name and the branch.

    :return: YAML text.
    """
    lines = [
        "---",
        "document: modulemd",
        "version: 2",
        "data:",
        "  summary: A demonstration module for ridad's development environment",
        "  description: >-",
        "    Three small noarch packages built in two batches: demo-lib and",
        "    demo-data first, then demo-app, which requires them. It",
        "    buildrequires every platform (platform: []), so one submission",
        "    expands into one module build per platform stream.",
        "  license:",
        "    module:",
        "      - MIT",
        "  dependencies:",
        "    - buildrequires:",
        "        platform: []",
        "      requires:",
        "        platform: []",
        "  components:",
        "    rpms:",
    ]
    for component in COMPONENTS:
        lines += [
            f"      {component.name}:",
            f"        rationale: {component.rationale}",
            f"        ref: {BRANCH}",
            f"        buildorder: {component.buildorder}",
        ]
    return "\n".join(lines) + "\n"


BROKEN_BRANCH = "broken"


def broken_modulemd_yaml() -> str:
    """The demo modulemd with two mistakes: no summary and a bad buildorder.

    It lives on the ``broken`` branch so a newcomer sees a 422 that says what
    is wrong and where.
    """
    text = modulemd_yaml().replace(
        "  summary: A demonstration module for ridad's development environment\n", ""
    )
    return text.replace("buildorder: 2", "buildorder: second", 1)


def spec_file(component: DemoComponent) -> str:
    """Render a minimal SPEC file that builds offline, with no sources.

    The payload, one text file, is written by ``%install`` itself.

    :return: the SPEC file's text.
    """
    requires = "".join(f"Requires:       {name}\n" for name in component.requires)
    return f"""\
Name:           {component.name}
Version:        1.0
Release:        1%{{?dist}}
Summary:        {component.summary}
License:        MIT
BuildArch:      noarch
{requires}
%description
{component.summary}. Part of the demo module that ridad's development
environment builds; it installs one text file.

%prep

%build

%install
mkdir -p %{{buildroot}}%{{_datadir}}/%{{name}}
echo "%{{name}} %{{version}}-%{{release}}: {component.summary}" \\
    > %{{buildroot}}%{{_datadir}}/%{{name}}/README

%files
%{{_datadir}}/%{{name}}/README

%changelog
* Mon Jan 01 2024 {COMMIT_USER_NAME} <{COMMIT_USER_EMAIL}> - 1.0-1
- First package of the ridad demo module.
"""


def config_yaml(state_dir: str) -> str:
    """Render the commented development YAML for the absolute ``state_dir``."""
    base = git_base_url()
    return f"""\
# ridad's development configuration, written once by `make run`
# (python -m ridad.devenv). Edit it freely: it is never rewritten.
# Delete the whole directory to start again from scratch.

# Where the HTTP API listens (a Twisted endpoint string).
listen: "{API_LISTEN}"

database:
  # "embedded": ridad runs a private PostgreSQL cluster under state_dir.
  dsn: "embedded"

# The daemon's own files (the embedded database lives here).
state_dir: "{state_dir}"

scm:
  # Module repositories that may be built: the local git daemon's.
  allowed: ["{base}/modules/"]
  # Where components without a `repository` key come from.
  rpms_default_repository: "{base}/rpms/"
  # Further component repositories allowed (none).
  rpms_allowed: []
  # The ref of components without a `ref` key.
  rpms_default_ref: "{BRANCH}"

# Modules that are base modules (streams like platform:f40).
base_module_names: ["platform"]

api:
  # Largest request body accepted, in bytes.
  max_body_bytes: 1048576
  # true answers writes with 503 Service Unavailable.
  maintenance: false

koji:
  # The embedded build system: kojisim, a Koji hub simulator that make run
  # starts on {KOJI_HOST}:{KOJI_PORT} (its builds take {KOJI_BUILD_SECONDS} s each).
  hub: "{koji_hub_url()}"
  auth: {{method: password, user: {KOJI_USER}, password: {KOJI_PASSWORD}}}
  # The Koji tag of each base module stream, imported at start-up; the demo
  # module buildrequires platform: [], so it is built once per stream here.
  base_module_tags: {{{", ".join(f'"{k}": "{v}"' for k, v in BASE_TAGS.items())}}}
  arches: [x86_64]
  poll_interval_seconds: 1

messaging:
  # The embedded message broker: a private ActiveMQ that make run starts on
  # {BROKER_HOST}:{BROKER_PORT} (STOMP only; its files are in {BROKER_DIR_NAME}/ beside this file).
  stomp: {{endpoint: "{BROKER_ENDPOINT}"}}
  # ridad announces every state change on <prefix>module.state.change and
  # <prefix>component.state.change; `python -m ridad.devenv.listen` shows them.
  destination_prefix: "{DESTINATION_PREFIX}"
  # kojisim publishes Koji's events here; each one makes ridad poll Koji at once.
  subscriptions: [{{destination: "{KOJI_EVENT_PREFIX}>", format: koji}}]
  # Sent messages are pruned from the outbox after this many days.
  outbox_retention_days: 7
"""


KOJI_HOST = "127.0.0.1"
KOJI_PORT = 8099
KOJI_USER = "ridad"
KOJI_PASSWORD = "ridad"
KOJI_BUILD_SECONDS = 2
#: The base module streams of the demo and the Koji tag each builds on.
BASE_TAGS = {"platform:f40": "f40-build", "platform:f41": "f41-build"}


BROKER_HOST = "127.0.0.1"
BROKER_PORT = 61613
BROKER_ENDPOINT = f"tcp:{BROKER_HOST}:{BROKER_PORT}"
BROKER_DIR_NAME = "activemq"
DESTINATION_PREFIX = "/topic/VirtualTopic.eng.rida."
KOJI_EVENT_PREFIX = "/topic/koji."
#: The consumer whose queue (through ActiveMQ's virtual topics) collects ridad's messages.
LISTENER_NAME = "demo"


def listener_destination() -> str:
    """The STOMP destination the demo listener reads ridad's messages from.

    ActiveMQ keeps a wildcard subscription's messages in a queue named like
    the wildcard, ``Consumer.demo.VirtualTopic.eng.rida.>``, which the
    broker's configuration creates up front.
    """
    return (
        f"/queue/Consumer.{LISTENER_NAME}.{DESTINATION_PREFIX.removeprefix('/topic/')}>"
    )


def activemq_xml(
    instance_dir: str,
    *,
    port: int = BROKER_PORT,
    broker_name: str = "ridad-demo",
    queues: tuple[str, ...] | None = None,
    users: Mapping[str, str] | None = None,
) -> str:
    """Render a private broker's ``activemq.xml``.

    STOMP on loopback ``port`` only (no OpenWire, no web console, no JMX),
    KahaDB under ``instance_dir/data``, and ``queues`` created up front: by
    default the demo listener's queue, so ridad's messages wait there until
    ``python -m ridad.devenv.listen`` runs. (Only that one queue: a queue per
    topic as well would get every message delivered twice to the wildcard
    subscription.) With ``users`` (login to passcode) only they may connect.
    The test suite's brokers (``tests/brokers.py``) use this too.

    :param instance_dir: absolute path of the broker's directory.
    :returns: XML text.
    """
    if queues is None:
        queues = (listener_destination().removeprefix("/queue/"),)
    data = quoteattr(f"{instance_dir}/data")
    kahadb = quoteattr(f"{instance_dir}/data/kahadb")
    uri = quoteattr(f"stomp://{BROKER_HOST}:{port}?transport.closeAsync=false")
    destinations = "".join(
        f"      <queue physicalName={quoteattr(queue)}/>\n" for queue in queues
    )
    if destinations:
        destinations = f"    <destinations>\n{destinations}    </destinations>\n"
    return f"""\
<!-- A private ActiveMQ: written once by `make run` (python -m ridad.devenv),
     where it is never rewritten and may be edited freely, or by the tests. -->
<beans xmlns="http://www.springframework.org/schema/beans"
       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
       xsi:schemaLocation="http://www.springframework.org/schema/beans
         http://www.springframework.org/schema/beans/spring-beans.xsd
         http://activemq.apache.org/schema/core
         http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core"
          brokerName={quoteattr(broker_name)} useJmx="false" persistent="true"
          advisorySupport="false" schedulerSupport="false"
          useShutdownHook="true" dataDirectory={data}>
{_authentication(users)}{destinations}    <persistenceAdapter>
      <kahaDB directory={kahadb} journalMaxFileLength="8mb"/>
    </persistenceAdapter>
    <systemUsage>
      <systemUsage>
        <memoryUsage><memoryUsage limit="64 mb"/></memoryUsage>
        <storeUsage><storeUsage limit="1 gb"/></storeUsage>
        <tempUsage><tempUsage limit="256 mb"/></tempUsage>
      </systemUsage>
    </systemUsage>
    <transportConnectors>
      <transportConnector name="stomp" uri={uri}/>
    </transportConnectors>
  </broker>
</beans>
"""


def _authentication(users: Mapping[str, str] | None) -> str:
    """The plugin that lets only ``users`` (login to passcode) connect."""
    if not users:
        return ""
    entries = "".join(
        f"          <authenticationUser username={quoteattr(login)}"
        f' password={quoteattr(passcode)} groups="users"/>\n'
        for login, passcode in users.items()
    )
    return (
        "    <plugins>\n"
        '      <simpleAuthenticationPlugin anonymousAccessAllowed="false">\n'
        f"        <users>\n{entries}        </users>\n"
        "      </simpleAuthenticationPlugin>\n"
        "    </plugins>\n"
    )


def log4j_properties(log_path: str, *, console: bool = True) -> str:
    """Render the broker's logging settings: everything to ``log_path``, and
    with ``console`` warnings also to the terminal.

    :returns: the properties text.
    """
    text = f"""\
log4j.rootLogger=INFO, logfile{", console" if console else ""}
log4j.logger.org.springframework=WARN
log4j.logger.org.apache.xbean=WARN
log4j.logger.org.apache.activemq.spring=WARN
log4j.appender.logfile=org.apache.log4j.FileAppender
log4j.appender.logfile.File={log_path}
log4j.appender.logfile.layout=org.apache.log4j.PatternLayout
log4j.appender.logfile.layout.ConversionPattern=%d | %-5p | %m | %c | %t%n
"""
    if console:
        text += """\
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.Threshold=WARN
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=activemq %-5p %m%n
"""
    return text


def koji_hub_url() -> str:
    """The embedded build system's hub URL."""
    return f"http://{KOJI_HOST}:{KOJI_PORT}/kojihub"


def git_base_url(port: int | None = None) -> str:
    """Return the git daemon's base URL, with the port only when not 9418."""
    return f"git://{GIT_HOST}" + ("" if port in (None, 9418) else f":{port}")


def module_scmurl(port: int | None = None) -> str:
    """Return the scmurl that submits the demo module's ``main`` branch."""
    return f"{git_base_url(port)}/modules/{MODULE_NAME}.git?#{BRANCH}"
