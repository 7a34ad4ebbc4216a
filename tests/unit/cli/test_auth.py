"""Credentials: bearer tokens, the SPNEGO retry on a Negotiate challenge,
and client certificates for TLS."""

from __future__ import annotations

from pathlib import Path

import pytest
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator

from ridad.cli.auth import default_user, gssapi_token, https_policy
from ridad.cli.exits import ServerError, UsageError
from ridad.cli.settings import Settings
from tests.unit.cli.fakembs import Cli, FakeMbs
from tests.unit.koji.certs import issue


@pytest.fixture
def fake() -> FakeMbs:
    return FakeMbs()


@pytest.fixture
def cli(fake: FakeMbs, tmp_path: Path) -> Cli:
    return Cli(fake=fake, home=tmp_path)


@pytest.fixture
def no_kerberos_ticket(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path}/no-such-ccache")


async def in_this_thread(host: str) -> bytes:
    """The real gssapi_token, without the reactor's thread pool."""
    return gssapi_token(host)


class TokenMaker:
    """A fake Kerberos: records the hosts asked for, returns ``token``."""

    def __init__(self, token: bytes) -> None:
        self.token = token
        self.hosts: list[str] = []

    async def __call__(self, host: str) -> bytes:
        self.hosts.append(host)
        return self.token


def test_token_is_sent_as_bearer_on_every_request(cli: Cli, fake: FakeMbs) -> None:
    """--token goes in Authorization: Bearer, GETs included."""
    fake.token = "s3cret"
    fake.add_build(id=1)
    assert cli.run("--token", "s3cret", "show", "1") == 0, cli.err.getvalue()
    assert {r.headers["authorization"] for r in fake.requests} == {"Bearer s3cret"}


def test_refused_token_says_to_check_it(cli: Cli, fake: FakeMbs) -> None:
    """A 401 to a token exits 3 saying to check the token."""
    fake.token = "right"
    cli.environ["RIDA_TOKEN"] = "wrong"
    assert cli.run("about") == 3
    assert cli.err.getvalue() == (
        "rida: 401 Unauthorized: bad or missing token;"
        " the server refused the token: check --token or RIDA_TOKEN\n"
    )


def test_401_without_credentials_says_how_to_log_in(cli: Cli, fake: FakeMbs) -> None:
    """A 401 without a Negotiate challenge tells how to log in."""
    fake.token = "right"
    assert cli.run("cancel", "1") == 3
    assert cli.err.getvalue().endswith(
        "; log in: kinit, or pass --token (or set RIDA_TOKEN)\n"
    )


def test_negotiate_challenge_is_answered_once_with_a_kerberos_token(
    cli: Cli, fake: FakeMbs
) -> None:
    """On 401 Negotiate, the token for HTTP@host is sent and the POST repeated."""
    fake.negotiate_token = b"ticket"
    cli.token_maker = maker = TokenMaker(b"ticket")
    assert cli.run("submit", "git://h/modules/demo.git?#main") == 0, cli.err.getvalue()
    assert maker.hosts == ["mbs.example.org"]
    first, second = fake.requests
    assert "authorization" not in first.headers
    assert second.headers["authorization"] == "Negotiate dGlja2V0"
    assert (
        first.body
        == second.body
        == {
            "scmurl": "git://h/modules/demo.git?#main",
            "branch": "main",
            "scratch": False,
        }
    )
    assert fake.builds[1]["name"] == "demo"


def test_refused_kerberos_token_is_not_retried_again(cli: Cli, fake: FakeMbs) -> None:
    """A second 401 ends with a message to kinit; no third request."""
    fake.negotiate_token = b"ticket"
    cli.token_maker = TokenMaker(b"stale")
    assert cli.run("about") == 3
    assert len(fake.requests) == 2
    assert cli.err.getvalue() == (
        "rida: 401 Unauthorized: no Kerberos ticket;"
        " the server refused your Kerberos ticket: run kinit and retry\n"
    )


def test_negotiate_without_a_ticket_says_kinit(
    cli: Cli, fake: FakeMbs, no_kerberos_ticket: None
) -> None:
    """With python-gssapi but no ticket, the challenge ends in "run kinit"."""
    fake.negotiate_token = b"ticket"
    cli.token_maker = in_this_thread
    assert cli.run("about") == 3
    err = cli.err.getvalue()
    assert err.startswith(
        "rida: the server asks for Kerberos and no ticket works for"
        " HTTP@mbs.example.org ("
    )
    assert err.endswith("); run kinit and try again\n")
    assert len(fake.requests) == 1


def test_gssapi_token_without_ticket_raises_server_error(
    no_kerberos_ticket: None,
) -> None:
    """gssapi_token turns GSS-API failures into a ServerError about kinit."""
    with pytest.raises(ServerError, match="run kinit"):
        gssapi_token("mbs.example.org")


def test_mine_without_settings_is_the_login_name(
    no_kerberos_ticket: None,
) -> None:
    """Without a Kerberos ticket, "me" is $LOGNAME (then $USER)."""
    assert default_user({"LOGNAME": "dora", "USER": "x"}) == "dora"
    assert default_user({"USER": "eve"}) == "eve"


def test_https_policy_presents_the_client_certificate(tmp_path: Path) -> None:
    """The TLS connection offers --cert/--key and trusts --ca."""
    ca = issue("Test CA", ca=True)
    client = issue("alice", ca)
    cert, key = client.write(tmp_path, "alice", combined=False)
    (tmp_path / "ca.pem").write_bytes(ca.cert_pem)
    policy = https_policy(
        Settings(api_url="https://h/", cert=cert, key=key, ca=str(tmp_path / "ca.pem"))
    )
    assert policy.client_certificate is not None
    assert policy.client_certificate.dumpPEM().startswith(client.cert_pem)
    creator = policy.creatorForNetloc(b"mbs.example.org", 443)
    assert IOpenSSLClientConnectionCreator.providedBy(creator)
    assert policy.client_certificate.getSubject().commonName == b"alice"


def test_https_policy_without_cert_trusts_the_platform(tmp_path: Path) -> None:
    """Without --cert no certificate is offered."""
    policy = https_policy(Settings(api_url="https://h/"))
    assert policy.client_certificate is None


def test_combined_pem_holds_certificate_and_key(tmp_path: Path) -> None:
    """--cert alone may hold both the certificate and its key."""
    cert, key = issue("bob").write(tmp_path, "bob", combined=True)
    policy = https_policy(Settings(api_url="https://h/", cert=cert, key=key))
    assert policy.client_certificate is not None


@pytest.mark.parametrize(
    ("files", "complaint"),
    [
        ({"cert": "missing.pem"}, "cannot read the client certificate"),
        ({"ca": "missing.pem"}, "cannot read the CA file"),
        ({"ca": "empty.pem"}, "no PEM certificate in the CA file"),
        ({"cert": "empty.pem"}, "bad client certificate or key"),
    ],
)
def test_unusable_certificate_files_are_usage_errors(
    tmp_path: Path, files: dict[str, str], complaint: str
) -> None:
    """Missing or unparseable PEM files are named, as usage errors."""
    (tmp_path / "empty.pem").write_text("nothing\n")
    paths = {name: str(tmp_path / file) for name, file in files.items()}
    with pytest.raises(UsageError, match=complaint):
        https_policy(Settings(api_url="https://h/", **paths))


def test_bad_certificate_exits_2_before_any_request(cli: Cli, tmp_path: Path) -> None:
    """rida with an https server and a missing --cert exits 2."""
    from twisted.internet.testing import MemoryReactorClock

    from ridad.cli.main import http_client

    factory = http_client(MemoryReactorClock())
    with pytest.raises(UsageError):
        factory(Settings(api_url="https://h/", cert=str(tmp_path / "nope.pem")))
    # an http server never reads the certificate files
    factory(Settings(api_url="http://h/", cert=str(tmp_path / "nope.pem")))
