"""Benchmark: from a transition's commit to its event at a stream's client.

On a fresh database (built by the migrations), a writer (``Transitions`` on
a pool of its own, as another ridad process would be) records new builds one
after another; ``streams`` clients read ``GET /rida/events`` over loopback
HTTP from the change feed of a second pool (its LISTEN connection, the feed,
``serve_events``: the code the daemon runs). For each commit the time from
the intent's return (committed) to the event's arrival at every client is
taken; the figures are printed as JSON.

``python -m tests.bench.event_latency [--commits N] [--streams M]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

from twisted.internet.defer import Deferred
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

from ridad.api.change_feed import change_feed, serve_events
from ridad.config.model import ApiConfig
from ridad.db.pool import Pool
from ridad.transitions import Transitions
from tests.bench.on_reactor import run_on_reactor
from tests.bench.run import DEFAULT_DSN, migrated_database
from tests.db.test_transitions import new_build
from tests.integration.sse import SseReader


class EventsResource(Resource):
    """``GET /`` as ``/rida/events`` serves it (without Klein's routing)."""

    isLeaf = True

    def __init__(self, feed: Any) -> None:
        super().__init__()
        self._feed = feed

    def render_GET(self, request: Any) -> Any:
        d = Deferred.fromCoroutine(serve_events(request, self._feed, after=None))
        d.addCallback(lambda _: None if request.finished else request.finish())
        return NOT_DONE_YET


class TimedReader(SseReader):
    """An ``SseReader`` noting when each build's first event arrived."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.arrived: dict[int, float] = {}

    def _chunk(self, chunk: bytes) -> None:
        now = time.perf_counter()
        for event in self.parser.feed(chunk):
            self.events.append(event)
            build = json.loads(event.data)["id"]
            self.arrived.setdefault(build, now)


async def measure(reactor: Any, dsn: str, commits: int, streams: int) -> dict[str, Any]:
    """Commit ``commits`` builds; the latency to ``streams`` clients."""
    writer = Pool(dsn=dsn, reactor=reactor, size=2)
    reader_pool = Pool(dsn=dsn, reactor=reactor, size=2)
    await writer.start()
    await reader_pool.start()
    feed = change_feed(reactor, lambda: ApiConfig(max_event_streams=1000), reader_pool)
    feed.startService()
    port = reactor.listenTCP(0, Site(EventsResource(feed)), interface="127.0.0.1")
    url = f"http://127.0.0.1:{port.getHost().port}/"
    readers = [TimedReader(url) for _ in range(streams)]
    try:
        await readers[0].until(lambda: feed.last_id is not None)
        for reader in readers:
            await reader.open()
        transitions = Transitions(pool=writer, clock=reactor)
        committed: dict[int, float] = {}
        for i in range(commits):
            build_id, _ = await transitions.create_module_build(new_build(f"m{i}"))
            committed[build_id] = time.perf_counter()
            await readers[-1].until(lambda b=build_id: b in readers[-1].arrived)
        for reader in readers:
            await reader.until(lambda r=reader: len(r.arrived) == commits)
        slow = {
            b: round((readers[0].arrived[b] - t) * 1000)
            for b, t in committed.items()
            if readers[0].arrived[b] - t > 0.5
        }
        if slow:
            print("slow:", slow, "of", min(committed), "..", max(committed))
        latencies = sorted(
            (reader.arrived[b] - t) * 1000
            for reader in readers
            for b, t in committed.items()
        )
    finally:
        for reader in readers:
            reader.close()
        await port.stopListening()
        await feed.stopService()
        await writer.close()
        await reader_pool.close()
    return {
        "commits": commits,
        "streams": streams,
        "latency_ms_median": round(statistics.median(latencies), 2),
        "latency_ms_p95": round(latencies[int(len(latencies) * 0.95) - 1], 2),
        "latency_ms_max": round(latencies[-1], 2),
    }


def main() -> None:
    """Measure on a throwaway database and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--streams", type=int, default=1)
    args = parser.parse_args()
    server = os.environ.get("RIDAD_TEST_DSN", DEFAULT_DSN)
    with migrated_database(server, f"ridad_bench_{os.getpid()}_events") as dsn:
        figures = run_on_reactor(
            lambda reactor: measure(reactor, dsn, args.commits, args.streams)
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
