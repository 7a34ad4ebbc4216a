"""GET /health keeps answering while a 1 MiB modulemd is submitted: the
parse runs off the reactor thread (real reactor, PostgreSQL and git daemon)."""

from __future__ import annotations

import pytest_twisted

from tests.integration.health_load import MIB, big_modulemd, submit_while_polling
from tests.integration.support import GitWorld, RunningDaemon


@pytest_twisted.ensureDeferred
async def test_health_answers_200_throughout_a_1_mib_submission(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """Every /health answer polled every 50 ms during a 1 MiB submission is 200."""
    from twisted.internet import reactor

    text = big_modulemd()
    assert MIB - 100 < len(text.encode()) <= MIB
    commit = git_world.module("big", text)
    run = await submit_while_polling(reactor, daemon, git_world.scmurl("big", commit))
    assert run.submit_code == 201, run.submit_body
    assert len(run.submit_body["components"]) == 3
    assert len(run.answers) >= 2
    assert [code for code, _ in run.answers] == [200] * len(run.answers)
