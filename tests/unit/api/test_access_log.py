"""The access log of the API site: one compact line by default, Twisted's
combined format or nothing by ``api.access_log``, and a sampled fraction."""

from __future__ import annotations

import io
from dataclasses import replace

from twisted.internet.task import Clock

from ridad.api.site import ApiSite, make_site
from ridad.config.model import ApiConfig, LiveConfig
from ridad.config.parse import parse_config
from ridad.db.pool import Pool
from tests.unit.api.support import CONFIG, make_apps
from tests.unit.api.test_metrics_route import request


def logged(api: ApiConfig, count: int = 1) -> list[str]:
    """The access log lines of ``count`` ``GET /nope`` answers (404)."""
    clock = Clock()
    config = replace(CONFIG, api=api)
    apps = make_apps(
        Pool(dsn="host=/nonexistent", reactor=clock, size=1), clock=clock, config=config
    )
    site: ApiSite = make_site(
        api_resource=apps.rida_api.app.resource(),
        config=LiveConfig(config),
        reactor=clock,
    )
    site.logFile = io.StringIO()
    for _ in range(count):
        assert request(site, "GET", "/nope?x=1")[0] == 404
    return site.logFile.getvalue().splitlines()


def test_compact_is_the_default_one_short_line() -> None:
    """Method, path with query, status, body bytes, seconds: nothing else."""
    (line,) = logged(ApiConfig())
    assert line.startswith('"GET /nope?x=1" 404 ')
    _, status, size, seconds = line.rsplit(" ", 3)
    assert (status, int(size) > 0, float(seconds)) == ("404", True, 0.0)


def test_full_is_twisteds_combined_format_and_off_is_nothing() -> None:
    """``full`` keeps the client address, date, referer and user agent."""
    (line,) = logged(ApiConfig(access_log="full"))
    assert '"GET /nope?x=1 HTTP/1.1" 404' in line and line.endswith('"-" "-"')
    assert logged(ApiConfig(access_log="off"), 3) == []


def test_a_sample_logs_about_that_fraction() -> None:
    """``access_log_sample: 0.25`` logs some requests of many, not all."""
    lines = logged(ApiConfig(access_log_sample=0.25), 200)
    assert 10 < len(lines) < 100


def test_the_settings_are_checked() -> None:
    """Another mode, or a fraction outside (0, 1], is a configuration error."""
    for api in ("access_log: verbose", "access_log_sample: 0"):
        try:
            parse_config(f"database:\n  dsn: host=db\napi:\n  {api}\n")
        except Exception as e:
            assert "access_log" in str(e)
        else:
            raise AssertionError(f"{api} was accepted")
