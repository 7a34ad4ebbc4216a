"""The ``greenwave`` section of ``ridad.yaml``: the gate between ``done``
and ``ready``, and the checks that tie it to the bus subscriptions."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ridad.config.model import GREENWAVE_API, GreenwaveConfig, MessagingConfig
from ridad.config.reader import (
    Reader,
    check_http_url,
    check_positive_number,
    check_string,
)

GREENWAVE_KEYS = {
    "url",
    "decision_context",
    "subject_type",
    "timeout_seconds",
    "recheck_minutes",
}


def api_root(url: str) -> str:
    """Greenwave's API root for the configured ``url``: ``/api/v1.0`` is
    added unless the URL already ends with it (as MBS's ``GREENWAVE_URL``)."""
    root = url.rstrip("/")
    if urlsplit(root).path.endswith(GREENWAVE_API):
        return root
    return root + GREENWAVE_API


def parse_greenwave(reader: Reader, data: Any) -> GreenwaveConfig | None:
    """The ``greenwave`` section; None when it is not a mapping."""
    section = reader.section(data, "greenwave", GREENWAVE_KEYS)
    if data is not None and not isinstance(data, dict):
        return None
    p = "greenwave."
    for key in ("url", "decision_context"):
        if key not in section:
            reader.problems.append(f"{p}{key}: required")
    d = GreenwaveConfig(url="", decision_context="")
    url = reader.value(section, p, "url", "", check_http_url)
    if url and ("?" in url or "#" in url):
        reader.problems.append(f"{p}url: must not have a query or fragment")
    return GreenwaveConfig(
        url=api_root(url) if url else "",
        decision_context=reader.value(section, p, "decision_context", "", check_string),
        subject_type=reader.value(
            section, p, "subject_type", d.subject_type, check_string
        ),
        timeout_seconds=float(
            reader.value(
                section, p, "timeout_seconds", d.timeout_seconds, check_positive_number
            )
        ),
        recheck_minutes=float(
            reader.value(
                section, p, "recheck_minutes", d.recheck_minutes, check_positive_number
            )
        ),
    )


def check_greenwave_subscriptions(
    reader: Reader,
    messaging: MessagingConfig | None,
    greenwave: GreenwaveConfig | None,
) -> None:
    """A ``format: greenwave`` subscription needs a ``greenwave`` section."""
    if messaging is None or greenwave is not None:
        return
    for index, subscription in enumerate(messaging.subscriptions):
        if subscription.format == "greenwave":
            reader.problems.append(
                f"messaging.subscriptions[{index}].format: greenwave needs a"
                " greenwave section (its decision updates gate done builds)"
            )
