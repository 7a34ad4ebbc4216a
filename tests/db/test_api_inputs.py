"""Inputs that PostgreSQL, psycopg2 or ``int()`` would refuse with an
exception (a 500 before) are 400s naming the parameter, against real
PostgreSQL; the largest numbers each parameter takes are answered 200, so
the database takes them too. Git is the in-memory fake."""

from __future__ import annotations

import random
import string
from typing import Any

import pytest_twisted
from hypothesis import HealthCheck, Phase, given, settings
from twisted.internet import reactor

from ridad.api.inputs import BIGINT_MAX
from ridad.db.pool import Pool
from tests.db.test_api_handlers import call, settled, submitted
from tests.unit.api.cases import (
    BAD_TEXT,
    EVERY_PARAMETER,
    HOST,
    INTEGER_PARAMETERS,
    NINES,
)
from tests.unit.api.fuzzing import HeaderUser, check_answer, requests, site_client
from tests.unit.api.support import GIT, Apps, make_apps, module_repository, modulemd

#: ISO 8601 times at the ends of what the time filters take: the first and
#: last moments, and offsets beyond PostgreSQL's 15:59 (sent in UTC).
EXTREME_TIMES = (
    "0001-01-01",
    "9999-12-31T23:59:59.999999Z",
    "2026-11-27T10:00:00+23:59",
    "2026-11-27T10:00:00-2359",
)
#: Times whose UTC is before year 1 or after year 9999.
OUTSIDE_TIMES = ("0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59")


def client_of(apps: Apps, path: str) -> Any:
    """The app serving ``path``."""
    return apps.rida if path.startswith("/rida/") else apps.mbs


async def with_a_build(pool: Pool) -> Apps:
    """Both apps on ``pool``, with one build (and its components) recorded."""
    apps = make_apps(pool, clock=reactor)
    code, body, _ = await call(
        apps.rida, "POST", f"{HOST}/rida/module-builds/", submitted(apps)
    )
    assert code == 201, body
    return apps


@pytest_twisted.ensureDeferred
async def test_nul_and_non_utf8_in_every_parameter_are_400(pool: Pool) -> None:
    """``?name=%00``, ``owner``, ``scmurl``, ``nvr``, ``package`` and every
    other parameter of every list and item route."""
    apps = await with_a_build(pool)
    for path, key in EVERY_PARAMETER:
        for value in BAD_TEXT:
            code, body, _ = await call(
                client_of(apps, path), "GET", f"{HOST}{path}?{key}={value}"
            )
            assert code == 400, (path, key, value, body)
            assert key in body["details"]["parameters"]


@pytest_twisted.ensureDeferred
async def test_5000_digits_are_400_and_the_largest_numbers_200(pool: Pool) -> None:
    """``?page=9...9``, ``per_page``, ``version``, ``nsvc=a:b:9...9`` and the
    other numbers: 400 beyond their bound, 200 (an empty page) at it."""
    apps = await with_a_build(pool)
    for path, key, maximum in INTEGER_PARAMETERS:
        client = client_of(apps, path)
        code, body, _ = await call(client, "GET", f"{HOST}{path}?{key}={NINES}")
        assert (code, body["details"]["parameters"][key]) == (
            400,
            f"must be at most {maximum}",
        )
        code, body, _ = await call(client, "GET", f"{HOST}{path}?{key}={maximum}")
        assert code == 200, (path, key, body)
    modules = f"{HOST}/module-build-service/1/module-builds/"
    code, body, _ = await call(apps.mbs, "GET", f"{modules}?nsvc=a:b:{NINES}")
    assert (code, list(body["details"]["parameters"])) == (400, ["nsvc"])
    code, body, _ = await call(
        apps.mbs, "GET", f"{modules}?nsvc=demo:main:{2**64 - 1}:c"
    )
    assert (code, body["items"]) == (200, [])


@pytest_twisted.ensureDeferred
async def test_extreme_times_are_answered(pool: Pool) -> None:
    """The first and last moments and offsets up to 23:59 reach PostgreSQL
    (in UTC); a time whose UTC is before year 1 or after 9999 is a 400."""
    apps = await with_a_build(pool)
    modules = f"{HOST}/module-build-service/2/module-builds/"
    for key in ("submitted_after", "completed_before", "modified_after"):
        for when in EXTREME_TIMES:
            query = f"{key}={when.replace('+', '%2B')}"
            code, body, _ = await call(apps.mbs, "GET", f"{modules}?{query}")
            assert code == 200, (key, when, body)
        for when in OUTSIDE_TIMES:
            query = f"{key}={when.replace('+', '%2B')}"
            code, body, _ = await call(apps.mbs, "GET", f"{modules}?{query}")
            assert (code, list(body["details"]["parameters"])) == (400, [key])


@pytest_twisted.ensureDeferred
async def test_body_text_with_nul_or_a_surrogate_is_400_not_recorded(
    pool: Pool,
) -> None:
    """A branch with NUL or a lone surrogate was recorded as it came (a 500
    from psycopg2); now the field is named in a 400."""
    apps = make_apps(pool, clock=reactor)
    for branch in ("main\x00", "main\ud800"):
        submission = {**submitted(apps), "branch": branch}
        code, body, _ = await call(
            apps.rida, "POST", f"{HOST}/rida/module-builds/", submission
        )
        assert (code, list(body["details"]["fields"])) == (400, ["branch"])
    code, listed, _ = await call(apps.rida, "GET", f"{HOST}/rida/module-builds/")
    assert (code, listed) == (200, [])


@pytest_twisted.ensureDeferred
async def test_names_too_long_for_the_index_are_422(pool: Pool) -> None:
    """A module name, stream or component name over 255 characters would
    not fit the unique indexes (2704 bytes): 422, nothing recorded. 3,500
    random letters made PostgreSQL refuse the row before."""
    apps = make_apps(pool, clock=reactor)
    letters = random.Random(9).choices(string.ascii_letters, k=3500)
    long = "x" + "".join(letters)
    component = "c" + "".join(letters)
    apps.git.add(f"{GIT}/rpms/{component}", {f"{component}.spec": b"Name: x\n"})
    for name, text, branch, expected in (
        (long, modulemd(name=long), "main", "module name is 3501"),
        ("long-stream", modulemd(), "s" * 256, "module stream is 256"),
        (
            "long-component",
            modulemd(components=(component,)),
            "main",
            "component names",
        ),
    ):
        scmurl = module_repository(apps.git, name, text)
        if branch != "main":
            apps.git.add(
                f"{GIT}/modules/{name}.git", {f"{name}.yaml": text}, branch=branch
            )
            scmurl = f"{GIT}/modules/{name}.git?#{branch}"
        submission = {"scmurl": scmurl, "branch": branch}
        code, body, _ = await call(
            apps.rida, "POST", f"{HOST}/rida/module-builds/", submission
        )
        assert code == 422, body
        assert expected in body["message"]
    code, listed, _ = await call(apps.rida, "GET", f"{HOST}/rida/module-builds/")
    assert (code, listed) == (200, [])


@pytest_twisted.ensureDeferred
async def test_ids_full_width_or_beyond_bigint_are_404(pool: Pool) -> None:
    """``/rida/module-builds/%EF%BC%91`` was build 1; bigint's maximum and one
    above are unknown ids, not errors."""
    apps = await with_a_build(pool)
    for segment in ("%EF%BC%91", str(BIGINT_MAX), str(BIGINT_MAX + 1), NINES):
        for client, path in (
            (apps.rida, "/rida/module-builds/"),
            (apps.mbs, "/module-build-service/1/module-builds/"),
            (apps.mbs, "/module-build-service/2/component-builds/"),
        ):
            code, body, _ = await call(client, "GET", f"{HOST}{path}{segment}")
            assert (code, body["status"]) == (404, 404), (path, segment)
    for segment in ("0001", "0" * 5000 + "1"):
        code, shown, _ = await call(
            apps.rida, "GET", f"{HOST}/rida/module-builds/{segment}"
        )
        assert (code, shown["id"]) == (200, 1)


def drawn_requests(count: int) -> list[tuple[str, str, Any, bytes | None]]:
    """``count`` requests drawn by hypothesis (fixed seed), to send one by one."""
    drawn = []

    @settings(
        max_examples=count,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(sent=requests())
    def draw(sent: tuple[str, str, Any, bytes | None]) -> None:
        drawn.append(sent)

    draw()
    return drawn


@pytest_twisted.ensureDeferred
async def test_no_input_gives_500_against_postgresql(pool: Pool) -> None:
    """The fuzzed requests of the unit test, answered by real PostgreSQL
    (drawn first: hypothesis cannot wait for the reactor in a test)."""
    await with_a_build(pool)
    client = site_client(make_apps(pool, clock=reactor, authenticator=HeaderUser()))
    for method, url, headers, body in drawn_requests(100):
        response = await settled(
            client, client.request(method, url, data=body, headers=headers)
        )
        content = await settled(client, response.content())
        try:
            check_answer(response, content)
        except AssertionError as e:
            raise AssertionError(f"{method} {url} {body!r}: {e}") from None
