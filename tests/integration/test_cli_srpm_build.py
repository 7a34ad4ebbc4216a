"""``rida submit --scratch --srpm`` from end to end: rida logs in to the Koji
ridad builds in (kojisim, also served over HTTPS for the user's client
certificate) with the real koji library, uploads the SRPM to cli-build/,
and ridad builds that component from the upload; ``--watch`` ends at done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.web.server import Site

from ridad.kojisim.resource import hub_root
from ridad.kojisim.tap import tls_endpoint
from tests.integration.kojiworld import KojiWorld
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    daemon_config,
    koji_config,
    modulemd_text,
    start_daemon,
)
from tests.integration.test_cli import rida_process
from tests.integration.test_kojisim_process import (  # noqa: F401 - fixture
    Certificates,
    certificates,
)
from tests.unit.cli.rpmfiles import rpmbuild_srpm

DEMO = modulemd_text(
    {
        "alpha": {"rationale": "first", "buildorder": 1},
        "beta": {"rationale": "second", "buildorder": 2},
    }
)


@pytest_twisted.async_yield_fixture
async def tls_url(
    koji_world: KojiWorld,
    certificates: Certificates,  # noqa: F811
) -> AsyncIterator[str]:
    """The same kojisim hub over HTTPS, verifying client certificates."""
    from twisted.internet import reactor

    endpoint = tls_endpoint(
        reactor,
        "tcp:0:interface=127.0.0.1",
        cert=str(certificates.server_cert),
        key=str(certificates.server_key),
        ca=str(certificates.ca),
    )
    port = await endpoint.listen(Site(hub_root(koji_world.hub)))
    yield f"https://127.0.0.1:{port.getHost().port}/kojihub"
    await port.stopListening()


@pytest_twisted.async_yield_fixture
async def srpm_daemon(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> AsyncIterator[RunningDaemon]:
    """ridad building the two-component demo through kojisim."""
    git_world.module("demo", DEMO)
    config = daemon_config(
        database_dsn, git_world, tmp_path / "state", koji=koji_config(koji_world.url)
    )
    daemon = await start_daemon(config, tmp_path / "ridad.yaml")
    yield daemon
    await daemon.service.stopService()


def _module_task_sources(koji_world: KojiWorld) -> list[Any]:
    from tests.integration.test_scratch_builds import module_tasks

    return [source for source, _ in module_tasks(koji_world)]


# kojisim reads the client certificate's CN with pyOpenSSL's deprecated
# X509.get_subject (ridad/kojisim/resource.py:_client_cn), an error under
# this suite's warning filters when kojisim runs in the test's process.
@pytest_twisted.ensureDeferred
async def test_scratch_build_of_an_uploaded_srpm_ends_done(
    srpm_daemon: RunningDaemon,
    git_world: GitWorld,
    koji_world: KojiWorld,
    tls_url: str,
    certificates: Certificates,  # noqa: F811
    tmp_path: Path,
) -> None:
    """rida uploads beta's SRPM as the certificate's user and submits it;
    ridad builds beta from that upload (not from git), alpha from git; the
    watch ends at done with 0."""
    work = tmp_path / "srpm"
    work.mkdir()
    srpm = rpmbuild_srpm(work, "beta")
    config = tmp_path / "koji.conf"
    config.write_text(
        f"[sim]\nserver = {tls_url}\nauthtype = ssl\n"
        f"cert = {certificates.client}\nserverca = {certificates.ca}\n"
    )
    status, out, err = await rida_process(
        tmp_path,
        "--server",
        srpm_daemon.base_url,
        "submit",
        git_world.scmurl("demo"),
        "--scratch",
        "--srpm",
        str(srpm),
        "--koji-config",
        str(config),
        "--koji-profile",
        "sim",
        "--watch",
        "--interval",
        "0.2",
    )
    assert status == 0, out + err
    lines = out.splitlines()
    assert lines[0].startswith(f"Uploaded {srpm} to Koji: cli-build/")
    uploaded = lines[0].rsplit(": ", 1)[1]
    assert uploaded.endswith("/beta.src.rpm")
    assert lines[1].startswith("Submitted scratch module build ")
    assert lines[-1].endswith(": done, 3/3 components done, batch 3")
    assert any(": beta complete (task " in line for line in lines)
    sources = _module_task_sources(koji_world)
    assert uploaded in sources
    assert not any("/rpms/beta" in str(source) for source in sources)
