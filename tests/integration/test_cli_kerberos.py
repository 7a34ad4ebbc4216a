"""``rida`` against a ridad daemon that authenticates with Kerberos (a private KDC)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_twisted

from tests.auth.fixtures import (  # noqa: F401 - fixtures
    auth_section,
    kerberos_realm,
    kerberos_settings,
)
from tests.auth.kdc import REALM, PrivateRealm
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    daemon_config,
    modulemd_text,
    start_daemon,
)
from tests.integration.test_cli import rida_process


@pytest_twisted.async_yield_fixture
async def kerberos_daemon(
    database_dsn: str,
    git_world: GitWorld,
    tmp_path: Path,
    kerberos_realm: PrivateRealm,  # noqa: F811
) -> AsyncIterator[RunningDaemon]:
    """ridad accepting SPNEGO for HTTP/localhost, the demo module committed."""
    git_world.module("demo", modulemd_text())
    config = daemon_config(
        database_dsn,
        git_world,
        tmp_path / "state",
        auth=auth_section("kerberos", kerberos=kerberos_settings(kerberos_realm)),
    )
    daemon = await start_daemon(config, tmp_path / "ridad.yaml")
    daemon.base_url = daemon.base_url.replace("127.0.0.1", "localhost")
    yield daemon
    await daemon.service.stopService()


@pytest_twisted.ensureDeferred
async def test_kerberos_user_submits_lists_own_builds_and_cancels(
    kerberos_daemon: RunningDaemon,
    git_world: GitWorld,
    kerberos_realm: PrivateRealm,  # noqa: F811
    tmp_path: Path,
) -> None:
    """With a ticket, the real command answers the Negotiate challenge: the
    build is alice's, list --mine finds it, and alice may cancel it."""
    environ = {
        "KRB5CCNAME": kerberos_realm.kinit(f"alice@{REALM}"),
        "KRB5_CONFIG": str(kerberos_realm.krb5_conf),
        "RIDA_SERVER": kerberos_daemon.base_url,
    }
    status, out, err = await rida_process(
        tmp_path, "submit", git_world.scmurl("demo"), "--json", environ=environ
    )
    assert status == 0, err
    [build] = json.loads(out)
    assert build["owner"] == "alice"

    status, out, err = await rida_process(
        tmp_path, "list", "--mine", "--json", environ=environ
    )
    assert status == 0, err
    assert [b["id"] for b in json.loads(out)] == [build["id"]]

    status, out, err = await rida_process(
        tmp_path, "cancel", str(build["id"]), environ=environ
    )
    assert status == 0, err
    assert out.endswith(": Canceled by alice\n")


@pytest_twisted.ensureDeferred
async def test_kerberos_challenge_without_ticket_says_kinit(
    kerberos_daemon: RunningDaemon,
    git_world: GitWorld,
    kerberos_realm: PrivateRealm,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Without a ticket, a submission ends in one line telling to kinit."""
    environ = {
        "KRB5CCNAME": f"FILE:{tmp_path}/no-ccache",
        "KRB5_CONFIG": str(kerberos_realm.krb5_conf),
        "RIDA_SERVER": kerberos_daemon.base_url,
    }
    status, out, err = await rida_process(
        tmp_path, "submit", git_world.scmurl("demo"), environ=environ
    )
    assert status == 3
    assert err.startswith("rida: the server asks for Kerberos and no ticket works")
    assert err.endswith("; run kinit and try again\n")
