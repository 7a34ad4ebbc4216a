"""The bus messages ridad emits: logical topics and body shapes.

The module message body is the build exactly as ``GET
/rida/module-builds/N`` shows it, plus ``old_state``, ``msg_id`` and
``timestamp``. The publisher adds the configured destination prefix to the
topic.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ridad.domain.builds import ComponentBuild
from ridad.domain.views import format_time

MODULE_TOPIC = "module.state.change"
COMPONENT_TOPIC = "component.state.change"


def module_message_body(
    view: Mapping[str, Any], *, old_state: str | None, msg_id: str, now: datetime
) -> dict[str, Any]:
    """The body of a ``module.state.change`` message."""
    body = dict(view)
    body.update(old_state=old_state, msg_id=msg_id, timestamp=format_time(now))
    return body


def component_message_body(
    component: ComponentBuild,
    *,
    old_state: str | None,
    msg_id: str,
    now: datetime,
) -> dict[str, Any]:
    """The body of a ``component.state.change`` message."""
    return {
        "msg_id": msg_id,
        "timestamp": format_time(now),
        "module_build_id": component.module_build_id,
        "component": component.name,
        "type": component.type,
        "task_id": component.task_id,
        "nvr": component.nvr,
        "old_state": old_state,
        "state": component.state.label,
        "state_reason": component.state_reason,
    }
