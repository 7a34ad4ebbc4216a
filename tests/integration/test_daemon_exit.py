"""A real ``twistd ridad`` that cannot start: it exits non-zero instead of
staying up without listening, and its JSON log is plain JSON lines that name
the exception."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.error import ProcessTerminated

from tests.helpers import free_port
from tests.integration.processes import Processes, RidadProcess
from tests.integration.support import GitWorld, daemon_config

pytestmark = pytest.mark.integration

#: A safety net only: the daemon is expected to end long before.
END_TIMEOUT_SECONDS = 60


async def start_with_bogus_sslmode(
    processes: Processes,
    database_dsn: str,
    git_world: GitWorld,
    tmp_path: Path,
    log_format: str,
) -> tuple[RidadProcess, BaseException]:
    """Spawn ``twistd ridad`` on a DSN libpq refuses; wait for its end."""
    dsn = f"{database_dsn} sslmode=bogus"
    config = daemon_config(dsn, git_world, tmp_path / "state")
    port = free_port()
    config["listen"] = f"tcp:{port}:interface=127.0.0.1"
    process = processes._spawn(f"bogus-{log_format}", config, port, log_format)
    processes.started.append(process)
    ended = process.protocol.when_ended()
    ended.addTimeout(END_TIMEOUT_SECONDS, reactor)
    return process, await ended


@pytest_twisted.ensureDeferred
async def test_a_fatal_start_up_error_ends_the_process_with_status_1(
    processes: Processes, database_dsn: str, git_world: GitWorld, tmp_path: Path
) -> None:
    """``sslmode=bogus``: logged as fatal, then the process exits with 1."""
    process, reason = await start_with_bogus_sslmode(
        processes, database_dsn, git_world, tmp_path, "text"
    )
    output = process.log.read_text(errors="replace")
    assert "ridad cannot start; stopping" in output, process.tail()
    assert 'invalid sslmode value: "bogus"' in output
    assert isinstance(reason, ProcessTerminated), process.tail()
    assert reason.exitCode == 1


@pytest_twisted.ensureDeferred
async def test_the_json_log_is_json_lines_naming_the_exception(
    processes: Processes, database_dsn: str, git_world: GitWorld, tmp_path: Path
) -> None:
    """RIDAD_LOG_FORMAT=json: every line one JSON record, no record separator;
    the fatal one carries the exception's type and message."""
    process, reason = await start_with_bogus_sslmode(
        processes, database_dsn, git_world, tmp_path, "json"
    )
    assert isinstance(reason, ProcessTerminated), process.tail()
    text = process.log.read_text()
    assert "\x1e" not in text
    records = [json.loads(line) for line in text.splitlines()]
    assert all({"time", "level", "namespace", "message"} <= set(r) for r in records)
    fatal = [r for r in records if r["message"] == "ridad cannot start; stopping"]
    assert len(fatal) == 1, process.tail()
    assert fatal[0]["level"] == "critical"
    exception = fatal[0]["exception"]
    assert exception["type"] == "ridad.errors.ConfigError"
    assert 'invalid sslmode value: "bogus"' in exception["message"]
    assert "Traceback" in exception["traceback"]
