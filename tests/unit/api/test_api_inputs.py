"""Every query parameter and path id of both APIs refuses what would fail
below the API (a NUL for PostgreSQL, a lone surrogate for psycopg2, a
5,000-digit number for ``int()``) with a JSON 400 naming the parameter, or
a 404 for an id that is not ASCII digits.

The apps run in process on a pool that is never started: an input that
passes every check reaches the database and is answered 503, so 503 here
means "accepted"."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.task import Clock

from ridad.api.inputs import BIGINT_MAX, UINT64_MAX
from ridad.api.mbs_params import TIME_FILTERS
from ridad.db.pool import Pool
from tests.helpers import result_of
from tests.unit.api.cases import (
    BAD_TEXT,
    EVERY_PARAMETER,
    HOST,
    INTEGER_PARAMETERS,
    MBS_COMPONENTS,
    MBS_MODULES,
    NINES,
    PARAMETERS,
    RIDA_LIST,
)
from tests.unit.api.support import JSON, Apps, make_apps

#: Not ASCII digits: full-width 1, Arabic-Indic 3, superscript 2, and signs,
#: separators, exponents, spaces and hex that ``int()`` or ``isdigit`` take.
NOT_DIGITS = (
    "%EF%BC%91",
    "%D9%A3",
    "%C2%B2",
    "-1",
    "%2B1",
    "1_0",
    "1e3",
    "%201",
    "0x1",
    "",
)


@pytest.fixture
def apps() -> Apps:
    """Both apps on a pool that is never started (any query answers 503)."""
    clock = Clock()
    return make_apps(Pool(dsn="host=/nonexistent", reactor=clock, size=1), clock=clock)


def request(apps: Apps, method: str, path: str, body: bytes | None = None) -> Any:
    """Send ``method path`` to the app serving it; return (status, JSON body)."""
    client = apps.rida if path.startswith("/rida/") else apps.mbs
    response = result_of(client.request(method, HOST + path, data=body, headers=JSON))
    assert response.headers.getRawHeaders(b"content-type") == [b"application/json"]
    body = result_of(response.json())
    if response.code >= 400:
        assert body["status"] == response.code
    return response.code, body


def get(apps: Apps, path: str, query: str) -> tuple[int, dict[str, Any]]:
    """GET ``path?query``."""
    return request(apps, "GET", f"{path}?{query}")


def named(body: dict[str, Any], key: str) -> str:
    """The problem a 400 reports for parameter ``key``."""
    assert key in body["message"]
    return body["details"]["parameters"][key]


@pytest.mark.parametrize("value", BAD_TEXT)
@pytest.mark.parametrize("path, key", EVERY_PARAMETER)
def test_text_that_is_not_usable_is_400_naming_the_parameter(
    apps: Apps, path: str, key: str, value: str
) -> None:
    """``?name=%00`` and its kin: 400 naming the parameter, on every route."""
    code, body = get(apps, path, f"{key}={value}")
    assert code == 400
    problem = named(body, key)
    assert ("NUL" if "00" in value else "UTF-8") in problem


@pytest.mark.parametrize("path", list(PARAMETERS))
def test_a_parameter_name_with_nul_or_not_utf8_is_400_naming_it(
    apps: Apps, path: str
) -> None:
    """The name itself is checked too, and shown with its NUL escaped."""
    code, body = get(apps, path, "na%00me=x&st%ffate=y")
    assert code == 400
    assert body["details"]["parameters"] == {
        "na\\x00me": "must not contain NUL (U+0000)",
        "st\ufffdate": "must be UTF-8 text (percent-encoded UTF-8)",
    }


@pytest.mark.parametrize("path, key, maximum", INTEGER_PARAMETERS)
def test_5000_digits_is_400_naming_the_parameter(
    apps: Apps, path: str, key: str, maximum: int
) -> None:
    """``?page=9...9`` with 5,000 digits: 400, not int()'s ValueError."""
    code, body = get(apps, path, f"{key}={NINES}")
    assert (code, named(body, key)) == (400, f"must be at most {maximum}")


def test_5000_digit_nsvc_version_is_400_naming_nsvc(apps: Apps) -> None:
    """``nsvc=a:b:9...9``: the version part is bounded like ``version``."""
    code, body = get(apps, MBS_MODULES, f"nsvc=a:b:{NINES}")
    assert (code, named(body, "nsvc")) == (400, f"must be at most {UINT64_MAX}")
    code, _ = get(apps, MBS_MODULES, f"nsvc=a:b:{UINT64_MAX}:c")
    assert code == 503


@pytest.mark.parametrize("path, key, maximum", INTEGER_PARAMETERS)
def test_the_largest_number_passes_one_more_is_400(
    apps: Apps, path: str, key: str, maximum: int
) -> None:
    """The bound is the column's (or the documented) maximum, leading zeros
    included."""
    assert get(apps, path, f"{key}={maximum}")[0] == 503
    assert get(apps, path, f"{key}={'0' * 5000}{maximum}")[0] == 503
    code, body = get(apps, path, f"{key}={maximum + 1}")
    assert (code, named(body, key)) == (400, f"must be at most {maximum}")


@pytest.mark.parametrize("value", NOT_DIGITS)
@pytest.mark.parametrize("path, key, maximum", INTEGER_PARAMETERS)
def test_numbers_are_ascii_digits_only(
    apps: Apps, path: str, key: str, maximum: int, value: str
) -> None:
    """Full-width and other Unicode digits, signs and the like are 400."""
    code, body = get(apps, path, f"{key}={value}")
    assert code == 400
    assert "digits 0-9" in named(body, key)


PATHS_WITH_IDS = [
    ("GET", "/rida/module-builds/{}"),
    ("PATCH", "/rida/module-builds/{}"),
    ("GET", "/module-build-service/1/module-builds/{}"),
    ("PATCH", "/module-build-service/2/module-builds/{}/"),
    ("GET", "/module-build-service/2/component-builds/{}"),
    ("GET", "/module-build-service/{}/about"),
    ("GET", "/module-build-service/{}/module-builds/"),
]
#: Full-width 1 (``/rida/module-builds/%EF%BC%91`` was build 1), Arabic-Indic
#: 1, Devanagari 1, 5,000 digits and 20 digits (beyond bigint).
NOT_IDS = ("%EF%BC%91", "%D9%A1", "%E0%A5%A7", NINES, "1" + "0" * 19)


@pytest.mark.parametrize("segment", NOT_IDS)
@pytest.mark.parametrize("method, template", PATHS_WITH_IDS)
def test_ids_in_paths_are_ascii_digits_only(
    apps: Apps, method: str, template: str, segment: str
) -> None:
    """An id or API version that is not ASCII digits is no resource: 404."""
    body = b'{"state": "failed"}' if method == "PATCH" else None
    code, answer = request(apps, method, template.format(segment), body)
    assert (code, answer["message"]) == (
        404,
        f"No resource at {template.format(segment)}",
    )


@pytest.mark.parametrize("method, template", PATHS_WITH_IDS)
def test_ascii_ids_still_route(apps: Apps, method: str, template: str) -> None:
    """``0001`` and 1 after 5,000 zeros are id 1 and reach the store (503 on
    the unstarted pool); the API version 1 still answers ``about``."""
    body = b'{"state": "failed"}' if method == "PATCH" else None
    for segment in ("0001", "0" * 5000 + "1"):
        code, _ = request(apps, method, template.format(segment), body)
        assert code == (200 if template.endswith("about") else 503)


def test_an_id_beyond_bigint_with_19_digits_is_404_from_the_store(apps: Apps) -> None:
    """19 digits pass the route; above bigint the store answers 404 itself."""
    code, body = request(apps, "GET", f"{RIDA_LIST}{BIGINT_MAX + 1}")
    assert code == 404
    assert str(BIGINT_MAX + 1) in body["message"]


TIME_KEYS = [(MBS_MODULES, key) for key in TIME_FILTERS] + [
    (MBS_COMPONENTS, key) for key in ("modified_after", "modified_before")
]


@pytest.mark.parametrize("path, key", TIME_KEYS)
def test_times_are_taken_in_utc_within_years_1_to_9999(
    apps: Apps, path: str, key: str
) -> None:
    """Offsets up to 23:59 pass (PostgreSQL takes 15:59: they are sent in
    UTC); a time whose UTC falls outside years 1 to 9999 is a 400."""
    assert get(apps, path, f"{key}=2026-11-27T10:00:00%2B23:59")[0] == 503
    assert get(apps, path, f"{key}=0001-01-01T23:59:00%2B23:59")[0] == 503
    for outside in ("0001-01-01T00:00:00%2B23:59", "9999-12-31T23:59:59-23:59"):
        code, body = get(apps, path, f"{key}={outside}")
        assert code == 400
        assert "ISO 8601" in named(body, key)
