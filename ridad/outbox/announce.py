"""The outbox rows that announce a change, written inside the transaction
that makes it (``ridad.transitions`` calls these with its cursor); the relay
sends them later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ridad.bus import messages
from ridad.db.outbox import insert_message
from ridad.domain.builds import BuildSnapshot, ComponentBuild
from ridad.domain.views import module_build_view


async def announce_module(
    cursor: Any,
    written: BuildSnapshot,
    *,
    old_state: str | None,
    msg_id: str,
    now: datetime,
) -> None:
    """Queue the ``module.state.change`` message of the build as written."""
    view = module_build_view(written.build, list(written.components))
    body = messages.module_message_body(
        view, old_state=old_state, msg_id=msg_id, now=now
    )
    await insert_message(
        cursor,
        msg_id=msg_id,
        topic=messages.MODULE_TOPIC,
        body=body,
        module_build_id=written.build.id,
        now=now,
    )


async def announce_component(
    cursor: Any,
    before: ComponentBuild,
    after: ComponentBuild,
    *,
    msg_id: str,
    now: datetime,
) -> None:
    """Queue the ``component.state.change`` message of a component's move."""
    body = messages.component_message_body(
        after, old_state=before.state.label, msg_id=msg_id, now=now
    )
    await insert_message(
        cursor,
        msg_id=msg_id,
        topic=messages.COMPONENT_TOPIC,
        body=body,
        module_build_id=after.module_build_id,
        now=now,
    )
