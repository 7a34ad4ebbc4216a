"""``POST /rida/import-module/`` and MBS's ``import-module/`` through
StubTreq against real PostgreSQL (git is the in-memory fake of
``tests/unit/api/support.py``): disabled by default (403), admins only,
201 with MBS's answer shape, updates in place, and the refusals."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
import yaml
from twisted.internet import reactor

from ridad.api.auth import Authorizer, Identity
from ridad.db.pool import Pool
from tests.db.test_api_handlers import call
from tests.unit.api.support import GIT, Apps, make_apps

RIDA = "http://ridad/rida/import-module/"
MBS = "http://ridad/module-build-service/2/import-module/"
ADMINS = Authorizer(import_users=frozenset({"<anonymous>"}))


def platform(stream: str = "f29.1.0", **mbs: Any) -> str:
    """A base module platform:``stream`` to import."""
    xmd = {"koji_tag": f"module-{stream}-build", "mse": True, "commit": "virtual"}
    xmd.update(mbs)
    document = {
        "document": "modulemd",
        "version": 2,
        "data": {
            "name": "platform",
            "stream": stream,
            "version": 5,
            "summary": "The platform",
            "description": "The base module.",
            "license": {"module": ["MIT"]},
            "xmd": {"mbs": xmd},
            "profiles": {"buildroot": {"rpms": ["bash"]}},
        },
    }
    return yaml.safe_dump(document)


def apps(pool: Pool, authorizer: Authorizer | None = ADMINS, **kw: Any) -> Apps:
    """The apps with imports enabled for everybody (auth.method none)."""
    return make_apps(pool, clock=reactor, authorizer=authorizer, **kw)


@pytest.mark.parametrize("url", [RIDA, MBS])
@pytest_twisted.ensureDeferred
async def test_import_is_disabled_unless_configured(pool: Pool, url: str) -> None:
    """No import_allowed_groups or _users: MBS's 403, before anything else."""
    code, body, _ = await call(
        apps(pool, None).rida if url == RIDA else apps(pool, None).mbs,
        "POST",
        url,
        {"x": 1},
    )
    assert code == 403
    assert body["message"] == "Import module API is disabled."


@pytest_twisted.ensureDeferred
async def test_mbs_import_answers_the_module_and_messages(pool: Pool) -> None:
    """201 {"module": ..., "messages": [...]}, MBS's fields and texts; a
    second import of the NSVC updates it in place."""
    client = apps(pool).mbs
    code, body, _ = await call(client, "POST", MBS, {"modulemd": platform()})
    assert code == 201, body
    nsvc = "platform:f29.1.0:5:00000000"
    assert body["messages"] == [f"Module {nsvc} imported"]
    module = body["module"]
    assert (module["name"], module["stream"], module["version"]) == (
        "platform",
        "f29.1.0",
        "5",
    )
    assert (module["state"], module["state_name"]) == (5, "ready")
    assert module["context"] == "00000000" and module["scmurl"] is None
    assert module["koji_tag"] == "module-f29.1.0-build"
    assert module["owner"] == "<anonymous>" and module["buildrequires"] == {}
    assert module["component_builds"] == [] and "tasks" not in module
    code, again, _ = await call(
        client, "POST", MBS, {"modulemd": platform(koji_tag="other")}
    )
    assert code == 201
    assert again["messages"] == [
        f"Updating existing module build {nsvc}.",
        f"Module {nsvc} imported",
    ]
    assert again["module"]["id"] == module["id"]
    assert again["module"]["koji_tag"] == "other"


@pytest_twisted.ensureDeferred
async def test_rida_import_from_scmurl_records_the_commit(pool: Pool) -> None:
    """An scmurl: the modulemd at that commit, recorded with scmurl and
    commit; 201 when new, 200 when the same again; GET shows it ready."""
    setup = apps(pool)
    commit = setup.git.add(
        f"{GIT}/modules/platform.git", {"platform.yaml": platform("el8").encode()}
    )
    scmurl = f"{GIT}/modules/platform.git?#main"
    code, body, response = await call(setup.rida, "POST", RIDA, {"scmurl": scmurl})
    assert code == 201, body
    assert (body["name"], body["stream"], body["state"]) == ("platform", "el8", "ready")
    assert body["scmurl"] == scmurl and body["components"] == []
    location = response.headers.getRawHeaders(b"location")[0].decode()
    code, shown, _ = await call(setup.rida, "GET", f"http://ridad{location}")
    assert (code, shown["state"]) == (200, "ready")
    code, again, _ = await call(setup.rida, "POST", RIDA, {"scmurl": scmurl})
    assert (code, again["id"]) == (200, body["id"])
    rows = await pool.run_query(
        "SELECT scm_commit, stream_version, imported FROM module_builds"
    )
    assert rows == [{"scm_commit": commit, "stream_version": 80000.0, "imported": True}]


@pytest.mark.parametrize(
    ("payload", "status", "fragment"),
    [
        ({}, 400, "Missing scmurl"),
        ({"scmurl": "x", "modulemd": "y"}, 400, "not both"),
        ({"module": "y"}, 400, "unknown field"),
        ({"modulemd": 5}, 400, "must be a string"),
        ({"scmurl": "git://elsewhere/m.git?#main"}, 403, "is not allowed"),
        ({"modulemd": "data: ["}, 422, "not valid YAML"),
        (
            {"modulemd": platform("f29-beta")},
            422,
            "The stream cannot contain a dash unless disttag_marking is set",
        ),
    ],
)
@pytest_twisted.ensureDeferred
async def test_refusals(
    pool: Pool, payload: dict[str, Any], status: int, fragment: str
) -> None:
    """Bad bodies 400, foreign scmurls 403, bad modulemd 422 (MBS's texts)."""
    for client, url in ((apps(pool).rida, RIDA), (apps(pool).mbs, MBS)):
        code, body, _ = await call(client, "POST", url, payload)
        assert code == status, body
        assert fragment in body["message"]


@pytest_twisted.ensureDeferred
async def test_importers_must_be_listed(pool: Pool) -> None:
    """Under a real method only the listed users and groups may import."""

    class Bob:
        method = "oidc"

        async def authenticate(self, request: Any) -> Identity:
            return Identity(user="bob", groups=frozenset({"packagers"}), method="oidc")

        def challenge(self) -> dict[bytes, bytes]:
            return {}

    authorizer = Authorizer(import_groups=frozenset({"admins"}), open_to_all=False)
    setup = apps(pool, authorizer, authenticator=Bob())
    code, body, _ = await call(setup.mbs, "POST", MBS, {"modulemd": platform()})
    assert code == 403
    assert body["message"] == "bob is not in any of ['admins'], only ['packagers']"
    allowed = Authorizer(import_groups=frozenset({"packagers"}), open_to_all=False)
    setup = apps(pool, allowed, authenticator=Bob())
    code, body, _ = await call(setup.rida, "POST", RIDA, {"modulemd": platform()})
    assert code == 201 and body["owner"] == "bob"


@pytest_twisted.ensureDeferred
async def test_a_built_nsvc_cannot_be_imported(pool: Pool) -> None:
    """A build ridad made is never replaced by an import: 409."""
    setup = apps(pool)
    await pool.run_operation(
        "INSERT INTO module_builds (name, stream, version, context, state, owner,"
        " scmurl, scm_commit, modulemd, build_context, runtime_context,"
        " time_submitted, time_modified) VALUES ('platform', 'f29.1.0', 5,"
        " '00000000', 'done', 'a', 's', 'c', 'm', 'b', 'r', now(), now())"
    )
    code, body, _ = await call(setup.mbs, "POST", MBS, {"modulemd": platform()})
    assert code == 409 and "built by ridad" in body["message"]
