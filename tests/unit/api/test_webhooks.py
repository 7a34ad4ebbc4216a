"""Push deliveries of each forge: their signatures checked, their payloads
read, and what builds nothing answered before the database is asked. The
route through StubTreq (alone, and behind the real site's write guard), an
in-memory git and a pool that never connects."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from treq.testing import StubTreq
from twisted.internet.task import Clock

from ridad.api.forges import DIALECTS, read_push, verify
from ridad.api.site import make_site
from ridad.api.webhooks import request_headers
from ridad.config.model import Config, LiveConfig
from ridad.db.pool import Pool
from ridad.domain.webhooks import Push
from ridad.errors import InvalidRequest, Unauthorized
from tests.helpers import result_of
from tests.unit.api.support import make_apps
from tests.unit.api.test_openapi_shapes import assert_valid
from tests.unit.api.webhook_support import (
    CLONE_URLS,
    EVENTS,
    FORGES,
    PUSHERS,
    WEBHOOK_CONFIG,
    ZERO,
    payload,
    signed,
    with_hooks,
)

ALL = pytest.mark.parametrize("forge", FORGES)
COMMIT = "7b4c5c6b3fc4ee7dc02e1ff0a6d0a5f29e5e0c2d"
#: The delivery id ``signed`` gives by default.
DELIVERY = "3c5c0404-c866-44bc-a5f6-452bb1bfc76e"


def url(forge: str) -> str:
    return f"http://ridad/rida/webhooks/{forge}"


def client(config: Config = WEBHOOK_CONFIG) -> StubTreq:
    """The /rida/ app on a pool that is never started (a query would fail)."""
    clock = Clock()
    pool = Pool(dsn="host=/nonexistent", reactor=clock, size=1)
    return make_apps(pool, clock=clock, config=config).rida


def post(
    stub: StubTreq, forge: str, headers: dict[bytes, list[bytes]], body: bytes
) -> tuple[int, dict[str, Any]]:
    """POST a delivery; return status and JSON body."""
    response = result_of(stub.post(url(forge), data=body, headers=headers))
    assert response.headers.getRawHeaders(b"content-type") == [b"application/json"]
    return response.code, result_of(response.json())


def lowered(headers: dict[bytes, list[bytes]]) -> dict[str, str]:
    """Headers as ``request_headers`` gives them to the forge functions."""
    return {k.decode().lower(): b", ".join(v).decode() for k, v in headers.items()}


@ALL
def test_each_forges_push_payload_is_read_as_a_push(forge: str) -> None:
    """The fixture push of every forge reads as its clone URL, branch main,
    the pushed commit, the pusher and the delivery's id."""
    headers, body = signed(forge, payload(forge, COMMIT), delivery="d-1")
    push = read_push(DIALECTS[forge], forge, lowered(headers), body, None)
    assert push == Push(
        forge=forge,
        delivery_id="d-1",
        clone_url=CLONE_URLS[forge],
        branch="main",
        commit=COMMIT,
        pusher=PUSHERS[forge],
    )
    assert push.scmurl == f"{CLONE_URLS[forge]}?#{COMMIT}"


def test_pagure_clone_urls_come_from_git_url_when_configured() -> None:
    """Pagure names no clone URL: ``git_url`` (GIT_URL_GIT) is its base when
    set, else the instance's own URL; a created branch's commit is ``rev``."""
    body = payload("pagure", COMMIT)
    body["msg"]["rev"] = body["msg"].pop("end_commit")
    headers, raw = signed("pagure", body, event="git.branch.creation")
    push = read_push(
        DIALECTS["pagure"], "pagure", lowered(headers), raw, "git://pkgs.example.org/"
    )
    assert isinstance(push, Push)
    assert (push.clone_url, push.commit) == (
        "git://pkgs.example.org/modules/demo.git",
        COMMIT,
    )


@ALL
def test_a_good_signature_passes_and_any_change_is_refused(forge: str) -> None:
    """The forge's own signature (GitLab: token) of the body passes; another
    body, another secret or no signature header is Unauthorized."""
    headers, body = signed(forge, payload(forge, COMMIT))
    verify(DIALECTS[forge], f"s3cret of {forge}", lowered(headers), body)
    with pytest.raises(Unauthorized):
        verify(DIALECTS[forge], f"s3cret of {forge}", *_tampered(forge, headers, body))
    with pytest.raises(Unauthorized):
        verify(DIALECTS[forge], "another secret", lowered(headers), body)
    bare = {
        k: v
        for k, v in lowered(headers).items()
        if "signature" not in k and "token" not in k
    }
    with pytest.raises(Unauthorized, match="has no"):
        verify(DIALECTS[forge], f"s3cret of {forge}", bare, body)


def _tampered(
    forge: str, headers: dict[bytes, list[bytes]], body: bytes
) -> tuple[dict[str, str], bytes]:
    """A delivery whose body or token was changed on the way."""
    if forge == "gitlab":  # the token is not tied to the body
        return {**lowered(headers), "x-gitlab-token": "guessed"}, body
    return lowered(headers), body.replace(b"main", b"evil")


def test_githubs_published_test_vector_verifies() -> None:
    """GitHub's documented example (secret "It's a Secret to Everybody",
    body "Hello, World!") verifies, so the HMAC is computed as GitHub does."""
    header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    verify(
        DIALECTS["github"],
        "It's a Secret to Everybody",
        {"x-hub-signature-256": header},
        b"Hello, World!",
    )


@ALL
def test_a_refused_signature_is_401_and_nothing_is_asked_of_the_database(
    forge: str,
) -> None:
    """A delivery signed with another secret is a JSON 401 (the pool never
    connects, so nothing was read or recorded)."""
    headers, body = signed(forge, payload(forge, COMMIT), key="not the secret")
    code, answer = post(client(), forge, headers, body)
    assert (code, answer["status"]) == (401, 401)
    assert "nothing was built" in answer["message"]


@ALL
def test_a_delivery_without_signature_is_401(forge: str) -> None:
    """No signature (or token) header at all is a 401 saying which is missing."""
    headers, body = signed(forge, payload(forge, COMMIT))
    headers = {
        k: v for k, v in headers.items() if b"Signature" not in k and b"Token" not in k
    }
    code, answer = post(client(), forge, headers, body)
    assert code == 401
    assert "has no" in answer["message"]


@ALL
def test_another_event_builds_nothing_with_200(forge: str) -> None:
    """A signed event that is not a push answers 200 with built false."""
    headers, body = signed(forge, {"action": "opened"}, event="issues")
    code, answer = post(client(), forge, headers, body)
    assert (code, answer["built"], answer["ids"]) == (200, False, [])
    assert EVENTS[forge][0] in answer["reason"]
    assert_valid(answer, "WebhookAnswer")


@ALL
def test_a_tag_push_builds_nothing(forge: str) -> None:
    """A push of a tag answers 200 saying only branches build."""
    headers, body = signed(forge, payload(forge, COMMIT, ref="refs/tags/v1.0"))
    code, answer = post(client(), forge, headers, body)
    assert (code, answer["built"]) == (200, False)
    assert "refs/tags/v1.0 is a tag" in answer["reason"]


@pytest.mark.parametrize("forge", ["github", "gitlab", "gitea", "forgejo"])
def test_a_branch_deletion_builds_nothing(forge: str) -> None:
    """A push that deletes the branch (the new commit all zeros) answers 200.
    (Pagure announces deletions as git.branch.deletion: another event.)"""
    body = payload(forge, ZERO)
    if forge == "github":
        body["deleted"] = True
    headers, raw = signed(forge, body)
    code, answer = post(client(), forge, headers, raw)
    assert (code, answer["built"]) == (200, False)
    assert "deleted branch main" in answer["reason"]


@ALL
def test_a_branch_not_listed_builds_nothing(forge: str) -> None:
    """A push to a branch no pattern matches whole answers 200 naming it
    (``f\\d+`` matches f41 but not f41-test)."""
    headers, body = signed(forge, payload(forge, COMMIT, ref="refs/heads/f41-test"))
    code, answer = post(client(), forge, headers, body)
    assert (code, answer["built"], answer["delivery"]) == (200, False, DELIVERY)
    assert "branch f41-test matches none" in answer["reason"]
    assert_valid(answer, "WebhookAnswer")


def test_githubs_ping_builds_nothing() -> None:
    """The ping GitHub sends when the hook is made answers 200 (hook works)."""
    headers, body = signed(
        "github", {"zen": "Design for failure.", "hook_id": 1}, event="ping"
    )
    code, answer = post(client(), "github", headers, body)
    assert (code, answer["built"]) == (200, False)
    assert answer["reason"].startswith("ping")


def test_gitlabs_tag_push_hook_builds_nothing() -> None:
    """GitLab's Tag Push Hook answers 200 as a tag push."""
    body = payload("gitlab", COMMIT, ref="refs/tags/v1")
    body["object_kind"] = "tag_push"
    headers, raw = signed("gitlab", body, event="Tag Push Hook")
    code, answer = post(client(), "gitlab", headers, raw)
    assert (code, answer["reason"]) == (
        200,
        "a tag push; only pushes to branches build",
    )


@ALL
def test_an_unknown_pusher_without_service_owner_is_403(forge: str) -> None:
    """A push by a user missing from identities, with no service owner, is a
    403 naming the user; nothing is built (the pool never connects)."""
    body = payload(forge, COMMIT)
    _rename_pusher(forge, body, "mallory")
    headers, raw = signed(forge, body)
    code, answer = post(client(), forge, headers, raw)
    assert code == 403
    assert "mallory has no ridad user" in answer["message"]
    assert answer["details"] == {"pusher": "mallory"}


def _rename_pusher(forge: str, body: dict[str, Any], user: str) -> None:
    if forge == "github":
        body["sender"]["login"] = user
    elif forge == "gitlab":
        body["user_username"] = user
    elif forge == "pagure":
        body["msg"]["agent"] = user
    else:
        body["pusher"]["login"] = user


@ALL
def test_a_signed_body_that_is_not_json_is_400(forge: str) -> None:
    """A correctly signed body that is not JSON is a 400 (for Pagure, which
    names the delivery in the body, as much as for the others)."""
    headers, body = signed(forge, b"{not json")
    code, answer = post(client(), forge, headers, body)
    assert code == 400
    assert "not valid JSON" in answer["message"]


def test_a_push_without_delivery_id_is_400() -> None:
    """A push whose delivery id header is missing is refused (nothing could
    tell its retries apart)."""
    headers, body = signed("github", payload("github", COMMIT))
    del headers[b"X-GitHub-Delivery"]
    code, answer = post(client(), "github", headers, body)
    assert code == 400
    assert "X-GitHub-Delivery" in answer["message"]


@pytest.mark.parametrize("forge", ["gitlab", "sourcehut", "github"])
def test_a_forge_without_configuration_is_404(forge: str) -> None:
    """A forge missing from webhooks (or no forge at all) is a 404."""
    only_github = replace(
        WEBHOOK_CONFIG,
        webhooks=replace(
            WEBHOOK_CONFIG.webhooks,  # type: ignore[arg-type]
            forges=tuple(
                f
                for f in WEBHOOK_CONFIG.webhooks.forges
                if f[0] == "github"  # type: ignore[union-attr]
            ),
        ),
    )
    headers, body = signed("gitlab", payload("gitlab", COMMIT))
    code, answer = post(client(only_github), forge, headers, body)
    assert code == (401 if forge == "github" else 404)
    code, _ = post(client(replace(WEBHOOK_CONFIG, webhooks=None)), forge, headers, body)
    assert code == 404


def test_the_write_guard_lets_a_forges_json_through_and_refuses_forms() -> None:
    """Behind the real site: a forge's JSON POST (no Origin) reaches the
    route; a form-encoded one (Gitea's other content type) is 415 and one
    from a foreign web page 403, before any signature is looked at."""
    clock = Clock()
    pool = Pool(dsn="host=/nonexistent", reactor=clock, size=1)
    apps = make_apps(pool, clock=clock, config=WEBHOOK_CONFIG)
    site = StubTreq(
        make_site(
            api_resource=apps.rida_api.app.resource(), config=LiveConfig(WEBHOOK_CONFIG)
        ).resource
    )
    headers, body = signed("gitea", payload("gitea", COMMIT, ref="refs/heads/other"))
    assert post(site, "gitea", headers, body)[0] == 200
    form = {**headers, b"Content-Type": [b"application/x-www-form-urlencoded"]}
    assert post(site, "gitea", form, b"payload=" + body)[0] == 415
    foreign = {**headers, b"Origin": [b"https://evil.example.org"]}
    assert post(site, "gitea", foreign, body)[0] == 403


def test_request_headers_are_read_by_lower_case_name() -> None:
    """Header names are matched without regard to case; repeats are joined
    (a doubled signature then matches nothing)."""
    from twisted.web.test.requesthelper import DummyRequest

    request = DummyRequest([b""])
    request.requestHeaders.setRawHeaders(b"X-Gitea-Signature", [b"ab", b"cd"])
    assert request_headers(request) == {"x-gitea-signature": "ab, cd"}


def test_a_payload_missing_its_clone_url_is_400() -> None:
    """A push payload without its repository's clone URL is a 400 naming it."""
    body = payload("github", COMMIT)
    del body["repository"]["clone_url"]
    headers, raw = signed("github", body)
    with pytest.raises(InvalidRequest, match="repository.clone_url"):
        read_push(DIALECTS["github"], "github", lowered(headers), raw, None)


@pytest.mark.parametrize("after", ["not-a-commit", "ABCDEF" * 7, "a" * 41])
def test_a_pushed_commit_that_is_not_a_hash_is_400(after: str) -> None:
    """The pushed commit must be 40 (or 64) lower-case hex digits."""
    headers, raw = signed("gitea", payload("gitea", after))
    with pytest.raises(InvalidRequest, match="not a commit hash"):
        read_push(DIALECTS["gitea"], "gitea", lowered(headers), raw, None)


def test_unknown_pushers_build_as_the_service_owner_config() -> None:
    """``owner_of``: the mapped user first, else the service owner, else None."""
    hook = with_hooks(service_owner="modularity-bot").webhooks.forge("github")  # type: ignore[union-attr]
    assert hook is not None
    assert hook.owner_of("octocat") == "octocat-ridad"
    assert hook.owner_of("mallory") == "modularity-bot"
    assert hook.owner_of(None) == "modularity-bot"
    plain = WEBHOOK_CONFIG.webhooks.forge("github")  # type: ignore[union-attr]
    assert plain is not None and plain.owner_of("mallory") is None
