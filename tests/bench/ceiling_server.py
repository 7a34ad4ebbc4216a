"""The framework's own limits, as processes to measure ridad against.

``python -m tests.bench.ceiling_server hello PORT`` serves a Klein
hello-world on 127.0.0.1:PORT; ``python -m tests.bench.ceiling_server query
PORT DSN`` serves a Klein handler that runs one query (one row of
module_builds, as JSON) through txpostgres connections, as many as ridad's
pool holds by default. Both answer ``GET /`` only and write no access log:
they are what the stack can do with no work of ridad's own.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from klein import Klein
from twisted.internet import reactor as global_reactor
from twisted.web.server import Site
from txpostgres import txpostgres

#: ridad's default ``database.pool_size``.
POOL_SIZE = 4
QUERY = (
    "SELECT id, name, stream, version, context, state, owner"
    " FROM module_builds WHERE id = (SELECT max(id) FROM module_builds)"
)


def hello_app() -> Klein:
    """``GET /``: a constant body."""
    app = Klein()

    @app.route("/", methods=["GET"])
    def hello(request: Any) -> bytes:
        request.setHeader(b"content-type", b"application/json")
        return b'{"hello": "world"}'

    return app


def query_app(pool: txpostgres.ConnectionPool) -> Klein:
    """``GET /``: one row of module_builds through ``pool``, as JSON."""
    app = Klein()

    @app.route("/", methods=["GET"])
    async def one_row(request: Any) -> bytes:
        rows = await pool.runQuery(QUERY)
        request.setHeader(b"content-type", b"application/json")
        return json.dumps([str(value) for value in rows[0]]).encode()

    return app


class QuietSite(Site):
    """A Site that writes no access log line."""

    def log(self, request: Any) -> None:
        """Nothing: the ceiling measures the stack without logging."""


def main(argv: list[str]) -> None:
    """Serve the ceiling named by ``argv[0]`` on port ``argv[1]``."""
    reactor: Any = global_reactor
    kind, port = argv[0], int(argv[1])
    if kind == "hello":
        app = hello_app()
    else:
        pool = txpostgres.ConnectionPool(None, argv[2], min=POOL_SIZE)
        reactor.callWhenRunning(pool.start)
        app = query_app(pool)
    reactor.listenTCP(port, QuietSite(app.resource()), interface="127.0.0.1")
    reactor.run()


if __name__ == "__main__":
    main(sys.argv[1:])
