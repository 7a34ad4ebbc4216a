"""What ``rida`` says when things go wrong: one message with what to do,
the right exit status, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from OpenSSL import SSL
from treq.client import HTTPClient
from twisted.internet.defer import Deferred, fail
from twisted.internet.error import (
    ConnectError,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
)
from twisted.python.failure import Failure
from twisted.web.client import ResponseNeverReceived
from twisted.web.iweb import IAgent
from zope.interface import implementer

from ridad.cli.client import REQUEST_TIMEOUT_SECONDS
from tests.helpers import result_of
from tests.unit.cli.fakembs import Cli, FakeMbs

JSON = {b"Content-Type": b"application/json"}


@implementer(IAgent)
class BrokenNetwork:
    """An agent whose every request fails with ``error`` (None: never answers)."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error

    def request(
        self, method: bytes, uri: bytes, headers: Any = None, bodyProducer: Any = None
    ) -> Deferred[Any]:
        if self.error is None:
            return Deferred()
        return fail(self.error)


@pytest.fixture
def fake() -> FakeMbs:
    return FakeMbs()


@pytest.fixture
def cli(fake: FakeMbs, tmp_path: Path) -> Cli:
    return Cli(fake=fake, home=tmp_path)


def assert_no_traceback(cli: Cli) -> None:
    err = cli.err.getvalue()
    assert "Traceback" not in err and 'File "' not in err
    assert err.startswith("rida: ") and err.count("\n") == 1


def test_refused_connection_says_is_ridad_running(cli: Cli) -> None:
    """A refused connection exits 3 naming the server and what to check."""
    cli.http = HTTPClient(BrokenNetwork(ConnectionRefusedError("127.0.0.1")))
    assert cli.run("about") == 3
    assert cli.err.getvalue() == (
        "rida: cannot reach http://mbs.example.org: connection refused;"
        " is ridad running? check --server\n"
    )


def test_unknown_host_is_named(cli: Cli) -> None:
    """A DNS failure names the host."""
    cli.http = HTTPClient(BrokenNetwork(DNSLookupError("mbs.example.org")))
    assert cli.run("show", "1") == 3
    assert "unknown host mbs.example.org; check --server" in cli.err.getvalue()
    assert_no_traceback(cli)


def test_tls_failure_points_at_the_certificates(cli: Cli) -> None:
    """A TLS handshake failure says so and points at --ca, --cert, --key."""
    error = SSL.Error([("SSL routines", "", "certificate verify failed")])
    cli.http = HTTPClient(BrokenNetwork(ResponseNeverReceived([Failure(error)])))
    assert cli.run("list") == 3
    assert cli.err.getvalue() == (
        "rida: TLS with http://mbs.example.org failed (certificate verify"
        " failed); check --ca, --cert and --key\n"
    )


def test_a_server_that_never_answers_times_out(cli: Cli) -> None:
    """A request without an answer is given up after the timeout."""
    cli.http = HTTPClient(BrokenNetwork(None))
    ended = cli.start("about")
    cli.clock.advance(REQUEST_TIMEOUT_SECONDS)
    assert result_of(ended) == 3
    assert "no answer from http://mbs.example.org within 120 s" in cli.err.getvalue()
    assert cli.clock.getDelayedCalls() == []


def test_4xx_prints_the_servers_message(cli: Cli, fake: FakeMbs) -> None:
    """A 4xx JSON error prints status, reason and the server's message."""
    fake.canned.append(
        (
            422,
            JSON,
            b'{"status": 422, "error": "Unprocessable Entity",'
            b' "message": "rpms/foo: no foo.spec at main"}',
        )
    )
    assert cli.run("submit", "git://h/modules/demo.git?#main") == 3
    assert cli.err.getvalue() == (
        "rida: 422 Unprocessable Entity: rpms/foo: no foo.spec at main\n"
    )


def test_5xx_says_when_to_try_again(cli: Cli, fake: FakeMbs) -> None:
    """A 503 prints its message and Retry-After."""
    fake.canned.append(
        (
            503,
            {**JSON, b"Retry-After": b"60"},
            b'{"status": 503, "error": "Service Unavailable",'
            b' "message": "maintenance mode"}',
        )
    )
    assert cli.run("list") == 3
    assert cli.err.getvalue() == (
        "rida: 503 Service Unavailable: maintenance mode;"
        " the server could not do it now: try again in 60 s\n"
    )


def test_500_without_retry_after_says_later(cli: Cli, fake: FakeMbs) -> None:
    """A 500 with the generic message says to try again later."""
    fake.canned.append(
        (
            500,
            JSON,
            b'{"status": 500, "error": "Internal Server Error", "message": "Internal error (id 5f2c)"}',
        )
    )
    assert cli.run("show", "3") == 3
    assert cli.err.getvalue().endswith(
        "(id 5f2c); the server could not do it now: try again later\n"
    )


@pytest.mark.parametrize("code", [200, 404, 502])
def test_non_json_answers_are_named_not_dumped(
    cli: Cli, fake: FakeMbs, code: int
) -> None:
    """An HTML answer (a proxy, a wrong --server) exits 3 without the page."""
    fake.canned.append((code, {b"Content-Type": b"text/html"}, b"<html>" + b"x" * 5000))
    assert cli.run("about") == 3
    err = cli.err.getvalue()
    assert err.startswith(
        f"rida: GET http://mbs.example.org/module-build-service/2/about/ answered {code} "
    )
    assert (
        "with text/html, not JSON: is http://mbs.example.org a ridad or MBS server? check --server"
        in err
    )
    assert "<html>" not in err
    assert_no_traceback(cli)


def test_unexpected_json_shape_is_reported(cli: Cli, fake: FakeMbs) -> None:
    """JSON of the wrong shape is an error about the server, not a crash."""
    fake.canned.append((200, JSON, b'{"items": "nope"}'))
    assert cli.run("list") == 3
    assert cli.err.getvalue() == (
        "rida: unexpected answer to module-builds/: a page without items and meta;"
        " is the server MBS API v2?\n"
    )


def test_a_build_without_id_is_reported(cli: Cli, fake: FakeMbs) -> None:
    """A build answer without an id is reported, not a KeyError."""
    fake.canned.append((200, JSON, b'{"state": 5}'))
    assert cli.run("show", "1") == 3
    assert "a module build without an id" in cli.err.getvalue()


def test_bugs_are_reported_in_one_line(cli: Cli) -> None:
    """Even a bug in rida gives one line and status 3, not a traceback."""

    class Exploding:
        def request(self, *args: Any, **kwargs: Any) -> Deferred[Any]:
            raise ZeroDivisionError("boom")

    cli.http = Exploding()
    assert cli.run("about") == 3
    assert cli.err.getvalue() == (
        "rida: unexpected error: ZeroDivisionError: boom"
        " (this is a bug in rida; please report it)\n"
    )


def test_connection_closed_without_answer_suggests_the_scheme(cli: Cli) -> None:
    """A connection closed before any answer (https spoken to http, say)."""
    lost = ResponseNeverReceived([Failure(ConnectionLost("non-clean"))])
    cli.http = HTTPClient(BrokenNetwork(lost))
    assert cli.run("about") == 3
    assert cli.err.getvalue() == (
        "rida: http://mbs.example.org closed the connection without answering;"
        " is it an HTTP server (http:// or https://)? check --server\n"
    )


def test_other_network_failures_show_their_causes(cli: Cli) -> None:
    """Other wrapped causes are spelled out, not shown as Failure reprs."""
    failed = ResponseNeverReceived([Failure(ConnectError(string="no route"))])
    cli.http = HTTPClient(BrokenNetwork(failed))
    assert cli.run("about") == 3
    err = cli.err.getvalue()
    assert err.startswith("rida: talking to http://mbs.example.org failed: ")
    assert "no route" in err and "Failure" not in err
