"""The final modulemd through the MBS API against real PostgreSQL: verbose
``modulemd`` is what Koji has as the module's modulemd.txt (the submitted
modulemd until the final one is written), read in the statement that reads
the build; ``final-modulemd/N`` answers the per-arch documents as MBS does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_twisted

from ridad.db.pool import Pool
from ridad.domain.states import ModuleState
from tests.db.documents_rig import TO_READY, Served, serve_apis
from tests.db.statements import StatementLog
from tests.db.test_transitions import modulemd_text
from tests.final_documents import PER_ARCH, WHOLE, store_documents

MBS = "/module-build-service/2/"
#: The modulemd tests.db.test_transitions.new_build submits.
SUBMITTED = modulemd_text(("a", "b"))


@pytest_twisted.async_yield_fixture
async def served(pool: Pool) -> AsyncIterator[Served]:
    """Both APIs over ``pool`` on loopback."""
    async for running in serve_apis(pool):
        yield running


def _build_reads(log: StatementLog) -> list[str]:
    return [s for s in log.statements() if "FROM module_builds" in s]


@pytest_twisted.ensureDeferred
async def test_verbose_modulemd_is_the_submitted_one_then_the_final_one(
    served: Served,
) -> None:
    """Before the final modulemd: the submitted document; after: modulemd.txt
    byte for byte, fetched in the build's own SELECT (no more statements
    than before); the default form has no modulemd at all."""
    module_build_id = await served.build("demo", *TO_READY)
    path = f"{MBS}module-builds/{module_build_id}?verbose=true"
    code, body = await served.get_json(path)
    assert (code, body["modulemd"]) == (200, SUBMITTED)
    await store_documents(served.pool, module_build_id)
    served.log.clear()
    code, body = await served.get_json(path)
    assert (code, body["modulemd"]) == (200, WHOLE)
    (read,) = _build_reads(served.log)
    assert "final_modulemds" in read and read.endswith("WHERE id = %s")
    # One statement: the build, its components and trace, no transaction.
    assert served.log.uses == [[read]]
    served.log.clear()
    code, body = await served.get_json(f"{MBS}module-builds/{module_build_id}")
    assert code == 200 and "modulemd" not in body
    assert all("final_modulemds" not in s for s in served.log.statements())


@pytest_twisted.ensureDeferred
async def test_verbose_list_carries_each_builds_modulemd(served: Served) -> None:
    """A verbose page: the final document of the built build, the submitted
    one of the other, from the page's one SELECT of builds."""
    built = await served.build("demo", *TO_READY)
    waiting = await served.build("other", ModuleState.WAIT)
    await store_documents(served.pool, built)
    served.log.clear()
    code, body = await served.get_json(f"{MBS}module-builds/?verbose=true")
    assert code == 200, body
    shown = {item["id"]: item["modulemd"] for item in body["items"]}
    assert shown == {built: WHOLE, waiting: SUBMITTED}
    page_reads = [s for s in _build_reads(served.log) if "LIMIT" in s]
    assert len(page_reads) == 1 and "final_modulemds" in page_reads[0]


@pytest_twisted.ensureDeferred
async def test_retiring_answers_the_final_modulemd_too(served: Served) -> None:
    """PATCH garbage of a ready build answers, in its one read and one
    transaction, what a later verbose GET shows: the final modulemd."""
    module_build_id = await served.build("demo", *TO_READY)
    await store_documents(served.pool, module_build_id)
    served.log.clear()
    path = f"{MBS}module-builds/{module_build_id}"
    code, answer = await served.patch(path, {"state": "garbage"})
    assert code == 200, answer
    transactions = [use for use in served.log.uses if use[0] == "BEGIN"]
    assert len(transactions) == 1 and len(served.log.uses) == 2, served.log.uses
    assert answer["modulemd"] == WHOLE
    code, shown = await served.get_json(path + "?verbose=true")
    assert shown == answer


@pytest_twisted.ensureDeferred
async def test_final_modulemd_answers_each_arch_as_mbs_does(served: Served) -> None:
    """final-modulemd/N: {arch: modulemd.<arch>.txt} in one statement; a
    404 saying why before the documents exist; no query arguments."""
    module_build_id = await served.build("demo", ModuleState.WAIT)
    path = f"{MBS}final-modulemd/{module_build_id}"
    code, body = await served.get_json(path)
    assert code == 404
    assert body["message"].startswith(
        f"Module build {module_build_id} has no final modulemd yet: it is in wait"
    )
    await store_documents(served.pool, module_build_id)
    served.log.clear()
    code, body = await served.get_json(path)
    assert (code, body) == (200, PER_ARCH)
    assert len(served.log.uses) == 1 and len(served.log.uses[0]) == 1
    code, body = await served.get_json(path + "?verbose=true")
    assert code == 400
    assert body["details"]["parameters"] == {
        "verbose": "unknown parameter; this takes none"
    }
    code, body = await served.get_json("/module-build-service/3/final-modulemd/1")
    assert code == 404
    code, body = await served.get_json(f"{MBS}final-modulemd/999")
    assert (code, body["message"]) == (404, "Module build 999 does not exist")
