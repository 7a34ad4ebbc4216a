"""Cross-site writes against the real ridad service tree over real HTTP: the
text/plain HTML form of issue 9 creates nothing, a foreign Origin is 403, the
API's own origin and clients without Origin or Content-Type still submit."""

from __future__ import annotations

import json

import pytest_twisted
import treq

from tests.integration.support import GitWorld, RunningDaemon, json_of, modulemd_text

SEED = "/rida/module-builds/"
MBS = "/module-build-service/2/module-builds/"


async def builds(daemon: RunningDaemon) -> list[dict]:
    """Every recorded build."""
    return await (await treq.get(daemon.url(SEED))).json()


@pytest_twisted.ensureDeferred
async def test_text_plain_form_on_another_site_creates_no_build(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A browser form (enctype text/plain) posting JSON-looking text is 415."""
    git_world.module("demo", modulemd_text())
    text = json.dumps({"scmurl": git_world.scmurl("demo"), "branch": "main"})
    for path in (SEED, MBS):
        response = await treq.post(
            daemon.url(path),
            data=text.encode(),
            headers={
                b"Content-Type": [b"text/plain"],
                b"Origin": [b"https://evil.example"],
            },
        )
        body = await json_of(response)
        assert response.code == 415, body
    assert await builds(daemon) == []


@pytest_twisted.ensureDeferred
async def test_foreign_origin_is_403_and_own_origin_submits(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """JSON from a page of another origin is refused; from the API's own it builds."""
    git_world.module("demo", modulemd_text())
    data = json.dumps({"scmurl": git_world.scmurl("demo"), "branch": "main"}).encode()
    json_type = [b"application/json"]
    foreign = await treq.post(
        daemon.url(SEED),
        data=data,
        headers={b"Content-Type": json_type, b"Origin": [b"https://evil.example"]},
    )
    body = await json_of(foreign)
    assert foreign.code == 403, body
    assert body["details"] == {"origin": "https://evil.example"}
    assert await builds(daemon) == []
    own = daemon.base_url.encode()
    mine = await treq.post(
        daemon.url(SEED),
        data=data,
        headers={b"Content-Type": json_type, b"Origin": [own]},
    )
    body = await json_of(mine)
    assert mine.code == 201, body


@pytest_twisted.ensureDeferred
async def test_mbs_submission_without_content_type_or_origin_still_works(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """rpkg's Kerberos path: a JSON body with no Content-Type header at all."""
    git_world.module("demo", modulemd_text())
    data = json.dumps({"scmurl": git_world.scmurl("demo"), "branch": "main"})
    response = await treq.post(daemon.url(MBS), data=data.encode())
    body = await json_of(response)
    assert response.code == 201, body
