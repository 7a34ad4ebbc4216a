"""A 1 MiB modulemd submitted while another client polls ``GET /health``.

The poller runs in a thread of its own with a blocking HTTP client: a
client on the daemon's reactor would stall with it and never see a stall.

Shared by ``test_health_under_load.py`` (which asserts every health answer
is 200) and ``tests/bench/health_under_load.py`` (which reports the slowest
one).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import treq
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread

from tests.integration.support import RunningDaemon, modulemd_text

MIB = 1024 * 1024
#: A health answer slower than this counts as no answer (status 0).
TIMEOUT_SECONDS = 1.0
JSON = {b"Content-Type": [b"application/json"]}


def big_modulemd(size_bytes: int = MIB) -> str:
    """A valid modulemd of just under ``size_bytes``: the three demo
    components and enough profiles (small mappings, the costly kind of
    node to read) to fill it."""
    text = modulemd_text()
    head, marker, tail = text.partition("data:\n")
    lines = ["  profiles:\n"]
    used = len(text) + len(lines[0])
    index = 0
    while True:
        line = (
            f"    profile{index:06d}:\n      description: Profile {index}\n"
            "      rpms: [alpha, beta]\n"
        )
        if used + len(line) > size_bytes:
            break
        lines.append(line)
        used += len(line)
        index += 1
    return head + marker + "".join(lines) + tail


@dataclass
class HealthRun:
    """What the submission answered and every health answer meanwhile."""

    submit_code: int = 0
    submit_body: Any = None
    #: (status code, or 0 for no answer; seconds it took), in order.
    answers: list[tuple[int, float]] = field(default_factory=list)

    @property
    def slowest_seconds(self) -> float:
        """The longest time any health answer took."""
        return max(seconds for _, seconds in self.answers)


def _poll(url: str, run: HealthRun, done: threading.Event, interval: float) -> None:
    """GET ``url`` every ``interval`` seconds until ``done`` is set.

    Runs in a thread of its own with a blocking client, so that a stalled
    reactor shows as a slow answer or a timeout (recorded as status 0),
    not as a client that was stalled too.
    """
    parts = urlsplit(url)
    while not done.is_set():
        started = time.monotonic()
        connection = http.client.HTTPConnection(
            parts.hostname, parts.port, timeout=TIMEOUT_SECONDS
        )
        try:
            connection.request("GET", parts.path)
            response = connection.getresponse()
            response.read()
            code = response.status
        except OSError:
            code = 0
        finally:
            connection.close()
        run.answers.append((code, time.monotonic() - started))
        done.wait(interval)


async def submit_while_polling(
    reactor: Any, daemon: RunningDaemon, scmurl: str, *, interval: float = 0.05
) -> HealthRun:
    """POST the submission of ``scmurl`` while polling /health every
    ``interval`` seconds; the poll goes on until the submission answers."""
    run = HealthRun()
    done = threading.Event()
    poller = threading.Thread(
        target=_poll, args=(daemon.url("/health"), run, done, interval), daemon=True
    )
    poller.start()
    try:
        await deferLater(reactor, interval)  # let the poller start first
        body = json.dumps({"scmurl": scmurl, "branch": "main"}).encode()
        response = await treq.post(
            daemon.url("/rida/module-builds/"), data=body, headers=JSON
        )
        run.submit_code = response.code
        run.submit_body = await response.json()
    finally:
        done.set()
        await deferToThread(poller.join)
    return run
