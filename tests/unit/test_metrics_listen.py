"""Where ``compose`` serves ``GET /metrics``: on the API's port, or with
``metrics.listen`` on a port of its own (and then not on the API's). Only the
two listeners of the composed tree are started, on 127.0.0.1 port 0; the pool
never connects, so the scrape goes without the database values."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
import treq

from ridad.composition import compose
from ridad.config.parse import parse_config
from ridad.metrics.instruments import CONTENT_TYPE

CONFIG = """
listen: "tcp:0:interface=127.0.0.1"
database: {dsn: "host=/nonexistent dbname=none"}
scm: {rpms_default_repository: "git://h/rpms/"}
"""
OWN_PORT = 'metrics: {listen: "tcp:port=0:interface=127.0.0.1"}'


async def get(port: int, path: str) -> tuple[int, Any, bytes]:
    response = await treq.get(f"http://127.0.0.1:{port}{path}", persistent=False)
    return response.code, response.headers, await response.content()


@pytest.mark.parametrize("own_port", [False, True], ids=["api-port", "own-port"])
@pytest_twisted.ensureDeferred
async def test_metrics_are_served_where_configured(
    own_port: bool, tmp_path: Any
) -> None:
    """Without ``metrics.listen``: the API's port answers /metrics. With it:
    its own port does (a listener named ``metrics``), the API's says 404."""
    from twisted.internet import reactor

    text = CONFIG + (OWN_PORT if own_port else "")
    config = parse_config(text.replace("/nonexistent", str(tmp_path)))
    root = compose(reactor, config, str(tmp_path / "ridad.yaml"))
    names = ["http", "metrics"] if own_port else ["http"]
    listeners = [root.getServiceNamed(name) for name in names]
    assert [child.name for child in root][-len(names) :] == names
    for listener in listeners:
        listener.startService()
    try:
        ports = [(await listener.listening).getHost().port for listener in listeners]
        code, headers, body = await get(ports[-1], "/metrics")
        assert code == 200
        assert headers.getRawHeaders(b"content-type") == [CONTENT_TYPE.encode()]
        assert b"ridad_database_up 0.0" in body
        if own_port:
            assert (await get(ports[0], "/metrics"))[0] == 404
            assert (await get(ports[1], "/health"))[0] == 404
    finally:
        for listener in reversed(listeners):
            await listener.stopService()
