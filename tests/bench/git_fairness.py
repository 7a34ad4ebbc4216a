"""Benchmark: how long a legitimate 3-component submission takes while
another submitter's huge module is being checked.

The real service tree (``makeService``) on real PostgreSQL, with OIDC
tokens from the tests' fake identity provider so that the two clients are
two submitters (alice and bob), and every repository served by a real
``git daemon``. alice's components all exist, one small repository each
(written object by object, as ``git init`` plus three loose objects would
leave it, which takes milliseconds). Scenarios: bob alone; alice submits 2,000 components (over
``api.max_components``, refused at once) and bob submits 0.5 s later; alice
submits 1,000 components (allowed, checked in git) and bob submits 0.5 s
later. Reports each answer's status and seconds (figures, never asserted).

``python -m tests.bench.run --only fairness``; also runs against older
code, which ignores nothing here but has no cap.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import treq
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.task import deferLater
from twisted.logger import (
    LogLevel,
)
from twisted.web.server import Site

from tests.auth.introspection import CLIENT_ID, CLIENT_SECRET, FakeIdentityProvider
from tests.bench.on_reactor import run_on_reactor
from tests.gitrepos import git, start_git_daemon
from tests.integration.support import (
    SPEC_TEMPLATE,
    GitWorld,
    daemon_config,
    modulemd_text,
    start_daemon,
)

HUGE = 2000
LARGE = 1000
DELAY_SECONDS = 0.5


def _loose_object(bare: Path, kind: str, data: bytes) -> str:
    """Write one loose object into ``bare``; return its hash."""
    raw = f"{kind} {len(data)}\0".encode() + data
    sha = hashlib.sha1(raw).hexdigest()
    folder = bare / "objects" / sha[:2]
    folder.mkdir(exist_ok=True)
    (folder / sha[2:]).write_bytes(zlib.compress(raw))
    return sha


def tiny_repository(bare: Path, template: Path, name: str, content: bytes) -> None:
    """A copy of the empty ``template`` whose main branch has one commit
    holding the file ``name``."""
    shutil.copytree(template, bare)
    blob = _loose_object(bare, "blob", content)
    tree = _loose_object(
        bare, "tree", f"100644 {name}\0".encode() + bytes.fromhex(blob)
    )
    who = "Bench <bench@example.org> 1767225600 +0000"
    commit = _loose_object(
        bare,
        "commit",
        f"tree {tree}\nauthor {who}\ncommitter {who}\n\nspec\n".encode(),
    )
    (bare / "refs" / "heads" / "main").write_text(commit + "\n")


def component_repositories(world: GitWorld, count: int) -> None:
    """``rpms/c0000.git`` ... ``rpms/c<count-1>.git``, each with its SPEC."""
    template = world.root / "template.git"
    git("init", "-q", "--bare", "-b", "main", "--template=", str(template))
    (world.root / "rpms").mkdir(parents=True, exist_ok=True)
    for index in range(count):
        name = f"c{index:04d}"
        spec = SPEC_TEMPLATE.format(name=name).encode()
        tiny_repository(
            world.root / "rpms" / f"{name}.git", template, f"{name}.spec", spec
        )


def big_module(count: int) -> str:
    """A modulemd with ``count`` components c0000 ...."""
    return modulemd_text(
        {
            f"c{index:04d}": {"rationale": "load", "buildorder": 1}
            for index in range(count)
        }
    )


async def timed_submit(daemon: Any, token: str, scmurl: str) -> tuple[int, float, str]:
    """POST a submission with a bearer token; return status, seconds and
    the start of the error message (empty on success)."""
    started = time.monotonic()
    response = await treq.post(
        daemon.url("/rida/module-builds/"),
        data=json.dumps({"scmurl": scmurl, "branch": "main"}).encode(),
        headers={
            b"Content-Type": [b"application/json"],
            b"Authorization": [b"Bearer " + token.encode()],
        },
    )
    body = json.loads(await response.content())
    seconds = round(time.monotonic() - started, 3)
    message = "" if response.code < 300 else str(body.get("message", ""))[:160]
    return response.code, seconds, message


async def scenario(
    reactor: Any, daemon: Any, world: GitWorld, big: str | None, legit: str
) -> dict[str, Any]:
    """alice submits ``big`` (if any), bob submits ``legit`` DELAY later."""
    figures: dict[str, Any] = {}

    async def bob() -> None:
        if big is not None:
            await deferLater(reactor, DELAY_SECONDS)
        code, seconds, message = await timed_submit(
            daemon, "tok-bob", world.scmurl(legit)
        )
        figures["bob"] = {"status": code, "seconds": seconds, "message": message}

    async def alice() -> None:
        assert big is not None
        code, seconds, message = await timed_submit(
            daemon, "tok-alice", world.scmurl(big)
        )
        figures["alice"] = {"status": code, "seconds": seconds, "message": message}

    work = [Deferred.fromCoroutine(bob())]
    if big is not None:
        work.append(Deferred.fromCoroutine(alice()))
    await gatherResults(work, consumeErrors=True)
    return figures


async def run(reactor: Any, dsn: str) -> dict[str, Any]:
    """Build the repositories, start ridad, run the three scenarios."""
    scratch = Path(tempfile.mkdtemp(prefix="fairbench-"))
    (scratch / "git").mkdir()
    server = start_git_daemon(scratch / "git")
    provider = FakeIdentityProvider()
    for user in ("alice", "bob"):
        provider.add_token(f"tok-{user}", username=user, groups=["packager"])
    listening = reactor.listenTCP(
        0, Site(provider.app.resource()), interface="127.0.0.1"
    )
    try:
        world = GitWorld(server=server, prefix="fair", root=server.base / "fair")
        for name in ("alpha", "beta", "gamma"):
            world.rpm(name)
        component_repositories(world, HUGE)
        for name in ("legit1", "legit2", "legit3"):
            world.module(name, modulemd_text())
        world.module("huge", big_module(HUGE))
        world.module("large", big_module(LARGE))
        oidc = {
            "introspection_url": (
                f"http://127.0.0.1:{listening.getHost().port}/introspect"
            ),
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
        config = daemon_config(
            dsn,
            world,
            scratch / "state",
            auth={"method": "oidc", "allowed_groups": ["packager"], "oidc": oidc},
            scm={"git_timeout_seconds": 120},
        )
        daemon = await start_daemon(config, scratch / "ridad.yaml")
        try:
            return {
                "alone": await scenario(reactor, daemon, world, None, "legit1"),
                f"with_{HUGE}": await scenario(
                    reactor, daemon, world, "huge", "legit2"
                ),
                f"with_{LARGE}": await scenario(
                    reactor, daemon, world, "large", "legit3"
                ),
            }
        finally:
            await daemon.service.stopService()
    finally:
        await listening.stopListening()
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def main(dsn: str) -> dict[str, Any]:
    """Run the benchmark against the database ``dsn`` and print its figures."""
    figures = run_on_reactor(
        lambda reactor: run(reactor, dsn), log_level=LogLevel.error
    )
    print("\nA legitimate 3-component submission (bob) beside a big one (alice):")
    for name, result in figures.items():
        parts = [
            f"{who} {r['status']} in {r['seconds']} s"
            for who, r in sorted(result.items())
        ]
        print(f"  {name:<10} " + "; ".join(parts))
        for who, r in sorted(result.items()):
            if r["message"]:
                print(f"  {'':<10} ({who}: {r['message']})")
    return figures
