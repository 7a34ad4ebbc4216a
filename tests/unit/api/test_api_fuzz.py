"""Hypothesis drives the whole request layer (the guard, both Klein apps)
with the requests of ``fuzzing.py``: no answer is a 500, and every 4xx is a
JSON error body.

In process, on a pool that is never started: what passes every check
answers 503 (``tests/db/test_api_inputs.py`` sends the same requests to
PostgreSQL)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from twisted.internet.task import Clock

from ridad.db.pool import Pool
from tests.helpers import result_of
from tests.unit.api.fuzzing import HeaderUser, check_answer, requests, site_client
from tests.unit.api.support import make_apps

CLOCK = Clock()
CLIENT = site_client(
    make_apps(
        Pool(dsn="host=/nonexistent", reactor=CLOCK, size=1),
        clock=CLOCK,
        authenticator=HeaderUser(),
    )
)


@settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(sent=requests())
def test_no_input_gives_500(sent: tuple[str, str, Any, bytes | None]) -> None:
    """Whatever is sent, the answer is never a 500, and errors are JSON."""
    method, url, headers, body = sent
    response = result_of(CLIENT.request(method, url, data=body, headers=headers))
    check_answer(response, result_of(response.content()))
