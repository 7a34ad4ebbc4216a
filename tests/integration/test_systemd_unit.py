"""``etc/ridad.service``: it runs ``twistd ridad`` sandboxed, and
``systemd-analyze security`` rates it 2.5 or better.

systemd-run needs systemd as PID 1, which a container seldom has, so the
settings are checked in the file, and the score with ``systemd-analyze
security --offline=yes``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import require_program

pytestmark = pytest.mark.integration

UNIT = Path(__file__).resolve().parents[2] / "etc" / "ridad.service"
MAX_EXPOSURE = 2.5

#: Settings the unit must have, with their exact values.
HARDENING = {
    "User": "ridad",
    "Restart": "on-failure",
    "StateDirectory": "ridad",
    "StateDirectoryMode": "0750",
    "UMask": "0027",
    "LimitNOFILE": "65536",
    "NoNewPrivileges": "true",
    "CapabilityBoundingSet": "",
    "AmbientCapabilities": "",
    "ProtectSystem": "strict",
    "ReadWritePaths": "/var/lib/ridad",
    "ProtectHome": "true",
    "PrivateTmp": "true",
    "PrivateDevices": "true",
    "DevicePolicy": "closed",
    "ProtectProc": "invisible",
    "ProcSubset": "pid",
    "ProtectKernelTunables": "true",
    "ProtectKernelModules": "true",
    "ProtectKernelLogs": "true",
    "ProtectControlGroups": "true",
    "ProtectClock": "true",
    "ProtectHostname": "true",
    "RestrictNamespaces": "true",
    "RestrictRealtime": "true",
    "RestrictSUIDSGID": "true",
    "LockPersonality": "true",
    "SystemCallArchitectures": "native",
    "SystemCallErrorNumber": "EPERM",
}


def service_settings() -> dict[str, list[str]]:
    """The ``[Service]`` section: each key with its values in file order."""
    settings: dict[str, list[str]] = {}
    section = None
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        if section == "Service":
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def test_the_unit_runs_twistd_ridad_in_the_foreground() -> None:
    """ExecStart is ``twistd --nodaemon ... ridad --config`` with ridad's logger."""
    (command,) = service_settings()["ExecStart"]
    argv = command.split()
    assert argv[0].endswith("/twistd")
    assert {"--nodaemon", "--pidfile=", "--logger=ridad.logs.observer"} <= set(argv)
    assert argv[argv.index("ridad") + 1] == "--config"


def test_the_unit_has_the_hardening_settings() -> None:
    """Each sandboxing setting is there with its value, once."""
    settings = service_settings()
    assert {key: settings.get(key) for key in HARDENING} == {
        key: [value] for key, value in HARDENING.items()
    }


def test_the_daemon_keeps_the_network_and_its_child_processes() -> None:
    """Internet and Unix sockets only; the system call filter is systemd's
    service set without privileged and resource calls; no W^X rule."""
    settings = service_settings()
    (families,) = settings["RestrictAddressFamilies"]
    assert sorted(families.split()) == ["AF_INET", "AF_INET6", "AF_UNIX"]
    assert settings["SystemCallFilter"] == [
        "@system-service",
        "~@privileged @resources",
    ]
    for absent in ("MemoryDenyWriteExecute", "PrivateNetwork", "IPAddressDeny"):
        assert absent not in settings


def test_systemd_analyze_rates_the_unit_at_most_2_5() -> None:
    """``systemd-analyze security --offline=yes``: exposure 2.5 or lower."""
    analyze = require_program("systemd-analyze", "systemd")
    done = subprocess.run(
        [analyze, "security", "--offline=yes", "--no-pager", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert found, done.stdout + done.stderr
    assert float(found.group(1)) <= MAX_EXPOSURE, done.stdout
