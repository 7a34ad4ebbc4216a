"""Build on push: ``POST /rida/webhooks/<forge>`` turns a forge's push
delivery into a submission.

The delivery authenticates itself (``ridad.api.forges``: an HMAC signature,
or GitLab's token); no user logs in. A push to a branch matching the forge's
``branches`` is submitted as ``<clone URL>?#<commit>`` on that branch, owned
by the pusher's ridad user (``identities``) or the ``service_owner``, and
goes through the same verification as any submission, so it is answered as
one would be (201, 400, 403, 409, 422). Everything that builds nothing on
purpose (another event, a tag, a deleted branch, a branch not listed) is a
200 saying why, never an error a forge would count against the hook.

A delivery's builds are recorded together with the delivery (``forge``,
delivery id); the same delivery again (a retry, a redelivery) answers 200
with those builds and builds nothing. Deliveries of one id are handled one
at a time in a process (a second waits while the first is verified), and
across processes the transaction's claim of the delivery decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.defer import DeferredLock
from twisted.logger import Logger
from twisted.web.iweb import IRequest

from ridad.api.forges import DIALECTS, Ignored, read_push, verify
from ridad.api.responses import write_json
from ridad.api.submission import Submission, SubmissionVerifier
from ridad.config.model import LiveConfig
from ridad.config.webhooks import ForgeHook
from ridad.db.builds import ModuleBuildStore
from ridad.db.pool import Pool
from ridad.db.webhooks import WebhookDeliveryStore
from ridad.domain.views import module_build_view
from ridad.domain.webhooks import Push
from ridad.errors import ClientError, Forbidden, NotFound, Unauthorized
from ridad.transitions import Transitions


@dataclass(frozen=True)
class Answer:
    """The status, JSON body and headers of an answer to a delivery."""

    status: int
    body: dict[str, Any]
    headers: Mapping[bytes, bytes] = field(default_factory=dict)


def request_headers(request: IRequest) -> dict[str, str]:
    """The request's headers by lower-case name (repeated ones joined)."""
    return {
        name.decode("latin-1").lower(): ", ".join(v.decode("latin-1") for v in values)
        for name, values in request.requestHeaders.getAllRawHeaders()
    }


class WebhookReceiver:
    """Answers the push deliveries of the forges in ``webhooks``."""

    log = Logger()

    def __init__(
        self,
        *,
        config: LiveConfig,
        submissions: SubmissionVerifier,
        transitions: Transitions,
        deliveries: WebhookDeliveryStore,
        builds: ModuleBuildStore,
    ) -> None:
        self._config = config
        self._submissions = submissions
        self._transitions = transitions
        self._deliveries = deliveries
        self._builds = builds
        self._in_flight: dict[tuple[str, str], DeferredLock] = {}

    async def respond(self, forge: str, request: IRequest) -> bytes:
        """Answer one delivery of ``forge`` (``receive``, written as JSON).

        :raises: what ``receive`` raises.
        """
        answer = await self.receive(forge, request)
        return write_json(
            request, answer.body, status=answer.status, headers=answer.headers
        )

    async def receive(self, forge: str, request: IRequest) -> Answer:
        """Answer one delivery of ``forge``.

        :raises NotFound: ``forge`` is not configured (or not a forge).
        :raises Unauthorized: the signature or token is missing or wrong.
        :raises InvalidRequest: the delivery is not one of the forge's.
        :raises Forbidden: no owner for the pusher, or what a submission of
            the push raises (as do Conflict, Unprocessable...).
        """
        hook = self._hook(forge)
        dialect = DIALECTS[forge]
        body = request.content.read()
        headers = request_headers(request)
        try:
            verify(dialect, hook.secret, headers, body)
        except Unauthorized as e:
            self.log.warn(
                "Refused a delivery from {forge}: {reason}",
                forge=forge,
                reason=e.message,
            )
            raise
        event = read_push(dialect, forge, headers, body, hook.git_url)
        if isinstance(event, Ignored):
            return self._ignored(forge, event.reason)
        if not hook.builds_branch(event.branch):
            return self._ignored(
                forge,
                f"branch {event.branch} matches none of webhooks.{forge}.branches;"
                " nothing to build",
                event.delivery_id,
            )
        return await self._one_at_a_time(hook, event)

    def _hook(self, forge: str) -> ForgeHook:
        webhooks = self._config.current.webhooks
        hook = webhooks.forge(forge) if webhooks and forge in DIALECTS else None
        if hook is None:
            raise NotFound(
                f"ridad takes no deliveries from {forge!r}: it is not in webhooks"
                " (forges: " + ", ".join(DIALECTS) + ")"
            )
        return hook

    async def _one_at_a_time(self, hook: ForgeHook, push: Push) -> Answer:
        """``_build``, after any delivery of the same id in flight here."""
        key = (push.forge, push.delivery_id)
        lock = self._in_flight.setdefault(key, DeferredLock())
        await lock.acquire()
        try:
            return await self._build(hook, push)
        finally:
            lock.release()
            if not lock.locked and not lock.waiting:
                del self._in_flight[key]

    async def _build(self, hook: ForgeHook, push: Push) -> Answer:
        owner = hook.owner_of(push.pusher)
        if owner is None:
            raise Forbidden(
                f"{push.forge} user {push.pusher or '(none named)'} has no ridad"
                f" user in webhooks.{push.forge}.identities and there is no"
                " service_owner; nothing was built",
                details={"pusher": push.pusher},
            )
        earlier = await self._deliveries.builds_of(push.forge, push.delivery_id)
        if earlier is not None:
            return self._duplicate(push, earlier)
        submission = Submission(scmurl=push.scmurl, branch=push.branch, owner=owner)
        try:
            news = await self._submissions.verified(submission)
            record = await self._transitions.create_pushed_builds(news, push)
        except ClientError:
            # Another process may have recorded this delivery meanwhile.
            earlier = await self._deliveries.builds_of(push.forge, push.delivery_id)
            if earlier is not None:
                return self._duplicate(push, earlier)
            raise
        if record.duplicate:
            return self._duplicate(push, record.ids)
        self.log.info(
            "Delivery {delivery} from {forge} built {repository} as"
            " module build {module_build_id}",
            delivery=push.delivery_id,
            forge=push.forge,
            repository=push.scmurl,
            module_build_id=record.ids[0],
        )
        build, components = await self._builds.get_with_components(record.ids[0])
        return Answer(
            201,
            {**module_build_view(build, components), "ids": record.ids},
            {b"Location": f"/rida/module-builds/{build.id}".encode("ascii")},
        )

    def _ignored(
        self, forge: str, reason: str, delivery_id: str | None = None
    ) -> Answer:
        self.log.info(
            "A delivery from {forge} builds nothing: {reason}",
            forge=forge,
            reason=reason,
        )
        return Answer(
            200, {"built": False, "reason": reason, "delivery": delivery_id, "ids": []}
        )

    def _duplicate(self, push: Push, ids: list[int]) -> Answer:
        reason = (
            f"delivery {push.delivery_id} was received before and built"
            f" {', '.join(map(str, ids))}; nothing more is built"
        )
        self.log.info(
            "Delivery {delivery} from {forge} was received before",
            delivery=push.delivery_id,
            forge=push.forge,
        )
        return Answer(
            200,
            {
                "built": False,
                "duplicate": True,
                "reason": reason,
                "delivery": push.delivery_id,
                "id": ids[0] if ids else None,
                "ids": ids,
            },
        )


def webhook_receiver(
    config: LiveConfig,
    submissions: SubmissionVerifier,
    transitions: Transitions,
    pool: Pool,
) -> WebhookReceiver:
    """The receiver of the service tree: the stores it reads are on ``pool``."""
    return WebhookReceiver(
        config=config,
        submissions=submissions,
        transitions=transitions,
        deliveries=WebhookDeliveryStore(pool=pool),
        builds=ModuleBuildStore(pool=pool),
    )
