"""The final modulemd through the seed API against real PostgreSQL, the API
on loopback: ``GET /rida/module-builds/N/modulemd`` answers the stored
document byte for byte in one statement, or a 404 saying why there is none;
``GET /rida/module-builds/N`` shows the artifacts and the Koji build."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_twisted

from ridad.db.pool import Pool
from ridad.domain.states import ModuleState
from tests.db.documents_rig import TO_READY, Served, serve_apis
from tests.db.statements import StatementLog
from tests.final_documents import ARTIFACTS, PER_ARCH, WHOLE, store_documents


@pytest_twisted.async_yield_fixture
async def served(pool: Pool) -> AsyncIterator[Served]:
    """Both APIs over ``pool`` on loopback."""
    async for running in serve_apis(pool):
        yield running


def _single_statement(log: StatementLog) -> str:
    """The one statement of the one pool use since the log was cleared."""
    assert len(log.uses) == 1 and len(log.uses[0]) == 1, log.uses
    return log.uses[0][0]


@pytest_twisted.ensureDeferred
async def test_the_whole_module_and_each_arch_byte_for_byte(served: Served) -> None:
    """modulemd.txt and modulemd.<arch>.txt come back as stored, as YAML with
    their Koji file names, each in one statement."""
    module_build_id = await served.build("demo", *TO_READY)
    await store_documents(served.pool, module_build_id)
    path = f"/rida/module-builds/{module_build_id}/modulemd"
    for query, text, filename in (
        ("", WHOLE, "modulemd.txt"),
        ("?arch=x86_64", PER_ARCH["x86_64"], "modulemd.x86_64.txt"),
        ("/?arch=aarch64", PER_ARCH["aarch64"], "modulemd.aarch64.txt"),
    ):
        served.log.clear()
        code, headers, body = await served.get(path + query)
        assert code == 200, body
        assert body == text.encode("utf-8")
        assert headers["content-type"] == ["application/yaml"]
        assert headers["content-disposition"] == [f'inline; filename="{filename}"']
        statement = _single_statement(served.log)
        assert statement.startswith("SELECT") and "final_modulemds" in statement


@pytest_twisted.ensureDeferred
async def test_no_build_and_no_final_modulemd_yet_are_404s_that_say_so(
    served: Served,
) -> None:
    """A missing build, and a build whose final modulemd is not written yet
    (its state in the message and details), are different 404s; one
    statement tells them apart."""
    code, body = await served.get_json("/rida/module-builds/999/modulemd")
    assert code == 404
    assert body["message"] == "Module build 999 does not exist"
    module_build_id = await served.build("building", ModuleState.WAIT)
    served.log.clear()
    code, body = await served.get_json(
        f"/rida/module-builds/{module_build_id}/modulemd"
    )
    assert code == 404
    assert body["message"] == (
        f"Module build {module_build_id} has no final modulemd yet: it is in wait;"
        " the final modulemd is written once every component is built and tagged"
    )
    assert body["details"] == {"state": "wait"}
    _single_statement(served.log)
    failed = await served.build("failed", ModuleState.FAILED)
    code, body = await served.get_json(f"/rida/module-builds/{failed}/modulemd")
    assert code == 404
    assert "it ended (failed) before one was written" in body["message"]


@pytest_twisted.ensureDeferred
async def test_an_arch_without_a_document_is_a_404_naming_those_there_are(
    served: Served,
) -> None:
    """?arch=ppc64le of an x86_64 and aarch64 module: 404 with the arches."""
    module_build_id = await served.build("demo", *TO_READY)
    await store_documents(served.pool, module_build_id)
    code, body = await served.get_json(
        f"/rida/module-builds/{module_build_id}/modulemd?arch=ppc64le"
    )
    assert code == 404
    assert body["message"] == (
        f"Module build {module_build_id} has no modulemd for arch ppc64le; its"
        " arches are: aarch64, x86_64 (leave out arch for the whole module)"
    )
    assert body["details"] == {"arches": ["aarch64", "x86_64"]}


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("?arch=x86%2064", {"arch": "must be an architecture name such as x86_64"}),
        ("?arch=", {"arch": "must be an architecture name such as x86_64"}),
        ("?arch=x86_64&arch=aarch64", {"arch": "give it once"}),
        ("?verbose=true", {"verbose": "unknown parameter"}),
    ],
)
@pytest_twisted.ensureDeferred
async def test_bad_queries_are_400s_naming_the_parameter(
    served: Served, query: str, problem: dict[str, str]
) -> None:
    """Unknown arguments, a repeated arch or one that is no arch name: 400,
    before the database is asked."""
    served.log.clear()
    code, body = await served.get_json(f"/rida/module-builds/1/modulemd{query}")
    assert code == 400, body
    ((key, start),) = problem.items()
    assert body["details"]["parameters"][key].startswith(start)
    assert served.log.uses == []


@pytest_twisted.ensureDeferred
async def test_the_build_shows_its_artifacts_and_koji_build_once_imported(
    served: Served,
) -> None:
    """artifact_count comes with the final modulemd; koji_build_id only once
    the import completed the build (a reservation is not the module)."""
    module_build_id = await served.build("demo", ModuleState.WAIT, ModuleState.BUILD)
    path = f"/rida/module-builds/{module_build_id}"
    code, body = await served.get_json(path)
    assert (code, body["artifact_count"], body["koji_build_id"]) == (200, None, None)
    await store_documents(served.pool, module_build_id, cg_state="reserved")
    code, body = await served.get_json(path)
    assert (body["artifact_count"], body["koji_build_id"]) == (ARTIFACTS, None)
    await served.pool.run_operation(
        "UPDATE module_builds SET cg_state = 'imported' WHERE id = %s",
        (module_build_id,),
    )
    code, body = await served.get_json(path)
    assert (body["artifact_count"], body["koji_build_id"]) == (ARTIFACTS, 7001)
