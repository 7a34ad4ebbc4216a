"""Push deliveries as each forge sends them, for the webhook tests: the
payloads of ``tests/data/webhooks/`` (modelled on each forge's documented
push payload), signed and headed as the forge does, and a configuration
that takes deliveries from all five forges."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from ridad.config.model import Config, ScmConfig
from ridad.config.webhooks import ForgeHook, WebhooksConfig
from tests.unit.api.support import CONFIG, GIT, FakeGit, modulemd

DATA = Path(__file__).parents[2] / "data" / "webhooks"
FORGES = ("pagure", "gitlab", "github", "forgejo", "gitea")
FIXTURES = {
    "github": "github-push.json",
    "gitlab": "gitlab-push.json",
    "gitea": "gitea-push.json",
    "forgejo": "forgejo-push.json",
    "pagure": "pagure-git-receive.json",
}
#: The clone URL of the demo module in each fixture.
CLONE_URLS = {
    "github": "https://github.com/modularity-test/demo.git",
    "gitlab": "https://gitlab.example.org/modules/demo.git",
    "gitea": "https://gitea.example.org/modules/demo.git",
    "forgejo": "https://codeberg.example.org/modules/demo.git",
    "pagure": "https://pagure.example.org/modules/demo.git",
}
#: The pusher each fixture names.
PUSHERS = {
    "github": "octocat",
    "gitlab": "jsmith",
    "gitea": "gitea-user",
    "forgejo": "forgejo-user",
    "pagure": "pingou",
}
#: The forge of each fixture's push event, and the header naming it.
EVENTS = {
    "github": ("X-GitHub-Event", "push"),
    "gitlab": ("X-Gitlab-Event", "Push Hook"),
    "gitea": ("X-Gitea-Event", "push"),
    "forgejo": ("X-Forgejo-Event", "push"),
    "pagure": ("X-Pagure-Topic", "git.receive"),
}
ZERO = "0" * 40


def secret(forge: str) -> str:
    """The secret of ``forge`` in ``WEBHOOK_CONFIG``."""
    return f"s3cret of {forge}"


def hooks(**changes: Any) -> WebhooksConfig:
    """All five forges: pushes to main and fNN build, the fixtures' pushers
    map to ridad users ``<pusher>-ridad``; no service owner."""
    return WebhooksConfig(
        forges=tuple(
            (
                forge,
                replace(
                    ForgeHook(
                        secret=secret(forge),
                        branches=("main", r"f\d+"),
                        identities=((PUSHERS[forge], f"{PUSHERS[forge]}-ridad"),),
                    ),
                    **changes,
                ),
            )
            for forge in FORGES
        )
    )


WEBHOOK_CONFIG = replace(
    CONFIG,
    scm=ScmConfig(
        allowed=(
            f"{GIT}/modules/",
            "https://github.com/modularity-test/",
            *(url.removesuffix("demo.git") for url in CLONE_URLS.values()),
        ),
        rpms_default_repository=f"{GIT}/rpms/",
        rpms_default_ref="main",
    ),
    api=replace(CONFIG.api, max_body_bytes=65536),
    webhooks=hooks(),
)


def with_hooks(config: Config = WEBHOOK_CONFIG, **changes: Any) -> Config:
    """``config`` whose forges all take ``changes`` (``service_owner``...)."""
    return replace(config, webhooks=hooks(**changes))


def push_repository(git: FakeGit, forge: str, branch: str = "main") -> str:
    """Commit the demo module (components alpha and beta) at ``forge``'s
    clone URL; return the commit."""
    for component in ("alpha", "beta"):
        git.add(f"{GIT}/rpms/{component}", {f"{component}.spec": b"Name: x\n"})
    return git.add(CLONE_URLS[forge], {"demo.yaml": modulemd()}, branch=branch)


def payload(
    forge: str, commit: str | None = None, *, ref: str | None = None
) -> dict[str, Any]:
    """The fixture push of ``forge``, at ``commit`` and ``ref`` if given."""
    value = json.loads((DATA / FIXTURES[forge]).read_text())
    value = copy.deepcopy(value)
    if forge == "pagure":
        if commit is not None:
            value["msg"]["end_commit"] = commit
        if ref is not None:
            value["msg"]["branch"] = ref.removeprefix("refs/heads/")
        return value
    if commit is not None:
        value["after"] = commit
        if forge == "gitlab":
            value["checkout_sha"] = None if commit == ZERO else commit
    if ref is not None:
        value["ref"] = ref
    return value


def signed(
    forge: str,
    body: dict[str, Any] | bytes,
    *,
    key: str | None = None,
    delivery: str = "3c5c0404-c866-44bc-a5f6-452bb1bfc76e",
    event: str | None = None,
) -> tuple[dict[bytes, list[bytes]], bytes]:
    """Headers and body of a delivery of ``body`` as ``forge`` sends it,
    signed (GitLab: authenticated) with ``key`` (the configured secret by
    default)."""
    if isinstance(body, bytes):
        raw = body
    elif forge == "pagure":  # Pagure names the delivery in the body
        raw = json.dumps({**body, "msg_id": delivery}, sort_keys=True).encode()
    else:
        raw = json.dumps(body, indent=2).encode()
    key = secret(forge) if key is None else key
    digest = hmac.new(key.encode(), raw, hashlib.sha256).hexdigest()
    event_header, push_event = EVENTS[forge]
    headers = {"Content-Type": "application/json", event_header: event or push_event}
    if forge == "github":
        headers |= {
            "X-Hub-Signature-256": f"sha256={digest}",
            "X-GitHub-Delivery": delivery,
            "User-Agent": "GitHub-Hookshot/044aadd",
        }
    elif forge == "gitlab":
        headers |= {"X-Gitlab-Token": key, "Idempotency-Key": delivery}
    elif forge == "pagure":
        headers |= {
            "X-Pagure-Signature-256": digest,
            "X-Pagure": "https://pagure.example.org",
            "X-Pagure-project": "modules/demo",
        }
    else:  # gitea, and forgejo which sends both families of headers
        family = ["X-Gitea-"] if forge == "gitea" else ["X-Forgejo-", "X-Gitea-"]
        for prefix in family:
            headers |= {
                f"{prefix}Signature": digest,
                f"{prefix}Delivery": delivery,
                f"{prefix}Event": event or push_event,
            }
    return {k.encode(): [v.encode()] for k, v in headers.items()}, raw
