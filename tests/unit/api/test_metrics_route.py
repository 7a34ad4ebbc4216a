"""``GET /metrics`` on the API's site (ridad/api/metrics.py, ridad/api/site.py):
the text parses with prometheus_client's own parser, requests are counted by
route template and status, maintenance mode and a failing database read
leave it answering. Requests go through the real site and channel on a
StringTransport with a task.Clock; the pool never connects."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from ridad.api.metrics import MetricsResource
from ridad.api.site import ApiSite, make_site
from ridad.config.model import ApiConfig, LiveConfig
from ridad.db.pool import Pool
from ridad.errors import DatabaseUnavailable
from ridad.metrics.instruments import CONTENT_TYPE, DatabaseReadings, Metrics
from tests.unit.api.support import CONFIG, make_apps

READINGS = DatabaseReadings(
    builds_by_state={"init": 1, "build": 2, "ready": 3},
    components_in_koji=4,
    outbox_unsent=5,
    outbox_oldest_unsent_age_seconds=6.5,
)


class FakeStore:
    """Answers fixed readings, or fails like an unreachable database."""

    def __init__(self) -> None:
        self.failing = False
        self.reads: list[datetime] = []

    async def readings(self, now: datetime) -> DatabaseReadings:
        self.reads.append(now)
        if self.failing:
            raise DatabaseUnavailable("connection refused")
        return READINGS


def site_of(maintenance: bool = False) -> tuple[ApiSite, FakeStore, Metrics]:
    """Both apps and /metrics behind the real site, on a Clock."""
    clock = Clock()
    clock.advance(1_767_225_600)
    config = replace(CONFIG, api=ApiConfig(maintenance=maintenance))
    apps = make_apps(
        Pool(dsn="host=/nonexistent", reactor=clock, size=1), clock=clock, config=config
    )
    metrics, store = Metrics(), FakeStore()
    resource = MetricsResource(
        metrics=metrics,
        store=store,  # type: ignore[arg-type]
        clock=clock,
    )
    site = make_site(
        api_resource=apps.rida_api.app.resource(),
        config=LiveConfig(config),
        reactor=clock,
        by_prefix={
            b"/module-build-service": apps.mbs_api.app.resource(),
            b"/metrics": resource,
        },
        metrics=metrics,
    )
    return site, store, metrics


def request(
    site: ApiSite, method: str, path: str
) -> tuple[int, dict[bytes, bytes], bytes]:
    """One request on a connection of its own: status, headers, body."""
    channel = site.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    channel.dataReceived(f"{method} {path} HTTP/1.1\r\nHost: ridad\r\n\r\n".encode())
    head, _, body = transport.value().partition(b"\r\n\r\n")
    channel.connectionLost(Failure(ConnectionDone()))
    status, *lines = head.split(b"\r\n")
    headers = dict(line.split(b": ", 1) for line in lines)
    return int(status.split()[1]), {k.lower(): v for k, v in headers.items()}, body


def scrape(site: ApiSite) -> dict[str, list[Sample]]:
    """``GET /metrics``, checked and parsed: family name -> samples."""
    status, headers, body = request(site, "GET", "/metrics")
    assert status == 200
    assert headers[b"content-type"] == CONTENT_TYPE.encode()
    families = text_string_to_metric_families(body.decode())
    return {family.name: family.samples for family in families}


def value(samples: list[Sample], name: str, **labels: str) -> Any:
    """The value of the one sample ``name`` with ``labels`` (None: absent)."""
    found = [s.value for s in samples if s.name == name and s.labels == labels]
    assert len(found) <= 1
    return found[0] if found else None


def test_the_text_parses_with_database_values_and_requests_by_route() -> None:
    """Builds by state, components in Koji and the outbox come from the
    store; each request is counted under its route template (the id is not
    in it), unknown paths under ``unmatched``."""
    site, store, _ = site_of()
    assert request(site, "GET", "/rida/module-builds/7")[0] == 503
    assert request(site, "GET", "/rida/module-builds/8")[0] == 503
    assert request(site, "GET", "/module-build-service/1/module-builds/9")[0] == 503
    assert request(site, "GET", "/nowhere")[0] == 404
    families = scrape(site)
    assert len(store.reads) == 1
    assert value(families["ridad_database_up"], "ridad_database_up") == 1
    builds = families["ridad_module_builds"]
    assert value(builds, "ridad_module_builds", state="build") == 2
    for name, expected in (
        ("ridad_component_builds_in_koji", 4),
        ("ridad_outbox_unsent_messages", 5),
        ("ridad_outbox_oldest_unsent_age_seconds", 6.5),
    ):
        assert value(families[name], name) == expected, name
    api = families["ridad_api_request_seconds"]
    count = "ridad_api_request_seconds_count"
    show = "/rida/module-builds/<number:module_build_id>"
    assert value(api, count, method="GET", route=show, status="503") == 2
    mbs = (
        "/module-build-service/<number:api_version>"
        "/module-builds/<number:module_build_id>"
    )
    assert value(api, count, method="GET", route=mbs, status="503") == 1
    assert value(api, count, method="GET", route="unmatched", status="404") == 1
    assert not any("/7" in s.labels.get("route", "") for s in api)
    again = scrape(site)["ridad_api_request_seconds"]
    assert value(again, count, method="GET", route="/metrics", status="200") == 1


def test_maintenance_mode_lets_metrics_through() -> None:
    """In maintenance mode the API answers 503, /metrics still 200."""
    site, _, _ = site_of(maintenance=True)
    assert request(site, "GET", "/rida/module-builds/")[0] == 503
    families = scrape(site)
    api = families["ridad_api_request_seconds"]
    count = "ridad_api_request_seconds_count"
    assert value(api, count, method="GET", route="unmatched", status="503") == 1


def test_a_failed_database_read_leaves_its_values_out() -> None:
    """The store failing: 200 all the same, ridad_database_up 0, no build
    gauges (rather than stale ones)."""
    site, store, _ = site_of()
    assert "ridad_module_builds" in scrape(site)
    store.failing = True
    families = scrape(site)
    assert value(families["ridad_database_up"], "ridad_database_up") == 0
    assert "ridad_module_builds" not in families
    assert "ridad_api_request_seconds" in families


def test_only_get_and_head_of_metrics_itself() -> None:
    """POST is 405 with Allow; a path under /metrics is 404; HEAD answers
    the headers only."""
    site, store, _ = site_of()
    status, headers, _ = request(site, "POST", "/metrics")
    assert (status, headers[b"allow"]) == (405, b"GET, HEAD")
    assert request(site, "GET", "/metrics/other")[0] == 404
    status, headers, body = request(site, "HEAD", "/metrics")
    assert (status, body) == (200, b"")
    assert int(headers[b"content-length"]) > 0
    assert headers[b"content-type"] == CONTENT_TYPE.encode()


def test_unknown_methods_share_one_label() -> None:
    """A made-up method is counted as ``other``: the label set stays small."""
    site, _, _ = site_of()
    request(site, "BREW", "/health")
    api = scrape(site)["ridad_api_request_seconds"]
    assert {s.labels["method"] for s in api} == {"other"}
