"""The push deliveries of Pagure, GitLab, GitHub, Forgejo and Gitea: how
each forge authenticates a delivery, names its event and its delivery, and
describes a push.

- GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``,
  ``X-GitHub-Event: push`` (``ping`` when the hook is made),
  ``X-GitHub-Delivery`` (kept by a redelivery). The push: ``ref``, ``after``,
  ``deleted``, ``repository.clone_url``, ``sender.login``.
- GitLab: ``X-Gitlab-Token`` (the secret token itself), ``X-Gitlab-Event:
  Push Hook`` (``Tag Push Hook`` for tags), ``Idempotency-Key`` (kept by
  retries and resends; recent GitLab), else ``X-Gitlab-Event-UUID``. The push:
  ``ref``, ``after`` (zeros when the branch is deleted),
  ``project.git_http_url``, ``user_username``.
- Gitea: ``X-Gitea-Signature`` (hex HMAC-SHA256, no prefix), ``X-Gitea-Event:
  push``, ``X-Gitea-Delivery``; Forgejo the same as ``X-Forgejo-*`` (and
  sends the ``X-Gitea-*`` ones too). The push: ``ref``, ``after``,
  ``repository.clone_url``, ``pusher.login``. A redelivery ("replay") is a
  new delivery with a new id.
- Pagure: ``X-Pagure-Signature-256`` (hex HMAC-SHA256), ``X-Pagure-Topic:
  git.receive`` (and ``git.branch.creation``); the body is ``{"msg": ...,
  "msg_id": ..., "topic", "timestamp", "i"}`` with ``msg.branch`` (a bare
  branch name, or ``refs/tags/...``), ``msg.end_commit`` (``msg.rev`` for a
  created branch), ``msg.agent`` (the pusher), ``msg.project_fullname`` and
  ``msg.pagure_instance``; ``msg_id`` names the delivery. Pagure sends no
  clone URL: it is ``<git_url or pagure_instance>/<project_fullname>.git``.

Every check compares with ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ridad.api.inputs import load_json, shown, text_problem
from ridad.domain.webhooks import Push
from ridad.errors import InvalidRequest, Unauthorized

#: Lower-case header name -> its value (several values joined with ", ").
Headers = Mapping[str, str]

#: A commit as forges name it: SHA-1, or SHA-256 in repositories using it.
COMMIT = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
ZEROS = re.compile(r"0+")
#: The longest delivery id kept (forges send UUIDs).
MAX_DELIVERY_ID = 200
HEADS = "refs/heads/"
TAGS = "refs/tags/"


@dataclass(frozen=True)
class Ignored:
    """A delivery that builds nothing, and why (answered 200)."""

    reason: str


@dataclass(frozen=True)
class RefUpdate:
    """What a push payload says, before ridad decides about it."""

    ref: str
    after: str
    clone_url: str
    pusher: str | None
    deleted: bool = False


@dataclass(frozen=True)
class Dialect:
    """How one forge sends its deliveries."""

    #: The display name in messages.
    title: str
    #: The headers carrying the signature (or token), the first present used.
    signature_headers: tuple[str, ...]
    #: "sha256=" for GitHub's prefixed hex digest, "" for a bare one, None
    #: for a token compared as it is (GitLab).
    signature_prefix: str | None
    event_headers: tuple[str, ...]
    #: The events that are pushes.
    push_events: frozenset[str]
    #: Other events that deserve their own reason for building nothing.
    ignored_events: Mapping[str, str]
    #: The headers naming the delivery (none: Pagure's ``msg_id``).
    delivery_headers: tuple[str, ...]
    #: The push payload (and its event, and the forge's ``git_url``) read.
    read: Callable[[dict[str, Any], str, str | None], RefUpdate]


def verify(dialect: Dialect, secret: str, headers: Headers, body: bytes) -> None:
    """Check that a delivery comes from the forge that knows ``secret``.

    :raises Unauthorized: the signature (or token) header is missing, or
        does not match the body (or the secret).
    """
    name, given = _first(headers, dialect.signature_headers)
    if given is None:
        raise Unauthorized(
            f"the delivery has no {_names(dialect.signature_headers)} header:"
            f" set the webhook's secret in {dialect.title} to the one ridad has"
        )
    if dialect.signature_prefix is None:
        expected = secret.encode("utf-8")
    else:
        digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        expected = (dialect.signature_prefix + digest).encode("ascii")
    if not hmac.compare_digest(given.encode("latin-1"), expected):
        raise Unauthorized(
            f"the {name} of the delivery does not match the secret ridad has for"
            f" {dialect.title}; nothing was built"
        )


def read_push(
    dialect: Dialect, forge: str, headers: Headers, body: bytes, git_url: str | None
) -> Push | Ignored:
    """The push a verified delivery announces, or why it builds nothing.

    :raises InvalidRequest: the delivery names no event, is not a JSON
        object, lacks what a push payload has, or has no delivery id.
    """
    event_header, event = _first(headers, dialect.event_headers)
    if event is None:
        raise InvalidRequest(
            f"the delivery names no event ({_names(dialect.event_headers)})"
        )
    if event not in dialect.push_events:
        reason = dialect.ignored_events.get(
            event, f"{event_header} is {shown(event)!r}; only pushes build"
        )
        return Ignored(reason)
    payload = _payload(body)
    update = dialect.read(payload, event, git_url)
    if update.ref.startswith(TAGS):
        return Ignored(f"{update.ref} is a tag; only pushes to branches build")
    if not update.ref.startswith(HEADS):
        return Ignored(f"{update.ref} is not a branch; only pushes to branches build")
    branch = update.ref.removeprefix(HEADS)
    if update.deleted or ZEROS.fullmatch(update.after):
        return Ignored(f"the push deleted branch {branch}; nothing to build")
    if not COMMIT.fullmatch(update.after):
        raise InvalidRequest(
            f"the pushed commit {shown(update.after)!r} is not a commit hash"
        )
    return Push(
        forge=forge,
        delivery_id=_delivery_id(dialect, headers, payload),
        clone_url=update.clone_url,
        branch=branch,
        commit=update.after,
        pusher=update.pusher,
    )


def _payload(body: bytes) -> dict[str, Any]:
    try:
        value = load_json(body, what="the delivery's body")
    except ValueError as e:
        raise InvalidRequest(str(e), details={"body": str(e)}) from None
    if not isinstance(value, dict):
        raise InvalidRequest("the delivery's body must be a JSON object")
    return value


def _delivery_id(dialect: Dialect, headers: Headers, payload: dict[str, Any]) -> str:
    if dialect.delivery_headers:
        _, value = _first(headers, dialect.delivery_headers)
        where = _names(dialect.delivery_headers)
    else:  # Pagure: the message id
        found = payload.get("msg_id")
        value = found if isinstance(found, str) else None
        where = "msg_id"
    if not value or not value.strip():
        raise InvalidRequest(f"the delivery has no id ({where})")
    value = value.strip()
    if len(value) > MAX_DELIVERY_ID or text_problem(value) or not value.isprintable():
        raise InvalidRequest(f"the delivery id ({where}) is not a short printable text")
    return value


def _first(headers: Headers, names: tuple[str, ...]) -> tuple[str, str | None]:
    """The first of ``names`` present in ``headers``, and its value."""
    for name in names:
        value = headers.get(name.lower())
        if value is not None:
            return name, value
    return names[0], None


def _names(names: tuple[str, ...]) -> str:
    return " or ".join(names)


def text_at(payload: Any, *path: str) -> str:
    """The string at ``path`` in ``payload``.

    :raises InvalidRequest: it is missing, not a string, or not text.
    """
    value = payload
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    where = ".".join(path)
    if not isinstance(value, str) or not value:
        raise InvalidRequest(
            f"the push payload has no {where}", details={"field": where}
        )
    problem = text_problem(value)
    if problem:
        raise InvalidRequest(f"{where} {problem}", details={"field": where})
    return value


def optional_text(payload: Any, *path: str) -> str | None:
    """The string at ``path``, or None when it is missing or not text."""
    try:
        return text_at(payload, *path)
    except InvalidRequest:
        return None


def _github(payload: dict[str, Any], event: str, git_url: str | None) -> RefUpdate:
    return RefUpdate(
        ref=text_at(payload, "ref"),
        after=text_at(payload, "after"),
        clone_url=text_at(payload, "repository", "clone_url"),
        pusher=optional_text(payload, "sender", "login")
        or optional_text(payload, "pusher", "name"),
        deleted=payload.get("deleted") is True,
    )


def _gitlab(payload: dict[str, Any], event: str, git_url: str | None) -> RefUpdate:
    clone_url = optional_text(payload, "project", "git_http_url")
    return RefUpdate(
        ref=text_at(payload, "ref"),
        after=text_at(payload, "after"),
        clone_url=clone_url or text_at(payload, "repository", "git_http_url"),
        pusher=optional_text(payload, "user_username"),
    )


def _gitea(payload: dict[str, Any], event: str, git_url: str | None) -> RefUpdate:
    return RefUpdate(
        ref=text_at(payload, "ref"),
        after=text_at(payload, "after"),
        clone_url=text_at(payload, "repository", "clone_url"),
        pusher=optional_text(payload, "pusher", "login")
        or optional_text(payload, "pusher", "username"),
    )


def _pagure(payload: dict[str, Any], event: str, git_url: str | None) -> RefUpdate:
    msg = payload.get("msg")
    branch = text_at(payload, "msg", "branch")
    project = optional_text(msg, "project_fullname") or optional_text(
        msg, "repo", "fullname"
    )
    if project is None:
        raise InvalidRequest("the push payload has no msg.project_fullname")
    base = git_url or text_at(payload, "msg", "pagure_instance").rstrip("/") + "/"
    commit_key = "rev" if event == "git.branch.creation" else "end_commit"
    return RefUpdate(
        ref=branch if branch.startswith("refs/") else HEADS + branch,
        after=text_at(payload, "msg", commit_key),
        clone_url=f"{base}{project}.git",
        pusher=optional_text(msg, "agent"),
    )


DIALECTS: dict[str, Dialect] = {
    "github": Dialect(
        title="GitHub",
        signature_headers=("X-Hub-Signature-256",),
        signature_prefix="sha256=",
        event_headers=("X-GitHub-Event",),
        push_events=frozenset({"push"}),
        ignored_events={
            "ping": "ping: the hook reaches ridad; pushes to the configured"
            " branches build"
        },
        delivery_headers=("X-GitHub-Delivery",),
        read=_github,
    ),
    "gitlab": Dialect(
        title="GitLab",
        signature_headers=("X-Gitlab-Token",),
        signature_prefix=None,
        event_headers=("X-Gitlab-Event",),
        push_events=frozenset({"Push Hook"}),
        ignored_events={"Tag Push Hook": "a tag push; only pushes to branches build"},
        delivery_headers=("Idempotency-Key", "X-Gitlab-Event-UUID"),
        read=_gitlab,
    ),
    "forgejo": Dialect(
        title="Forgejo",
        signature_headers=("X-Forgejo-Signature", "X-Gitea-Signature"),
        signature_prefix="",
        event_headers=("X-Forgejo-Event", "X-Gitea-Event"),
        push_events=frozenset({"push"}),
        ignored_events={},
        delivery_headers=("X-Forgejo-Delivery", "X-Gitea-Delivery"),
        read=_gitea,
    ),
    "gitea": Dialect(
        title="Gitea",
        signature_headers=("X-Gitea-Signature",),
        signature_prefix="",
        event_headers=("X-Gitea-Event",),
        push_events=frozenset({"push"}),
        ignored_events={},
        delivery_headers=("X-Gitea-Delivery",),
        read=_gitea,
    ),
    "pagure": Dialect(
        title="Pagure",
        signature_headers=("X-Pagure-Signature-256",),
        signature_prefix="",
        event_headers=("X-Pagure-Topic",),
        push_events=frozenset({"git.receive", "git.branch.creation"}),
        ignored_events={},
        delivery_headers=(),
        read=_pagure,
    ),
}
