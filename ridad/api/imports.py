"""Importing a module (MBS's ``import-module``): the request body, the
modulemd read from git (``scmurl``) or given (``modulemd``, ridad's
extension), and the build recorded ``ready``.

As MBS's ``fetch_mmd(mandatory_checks=False)``: the modulemd is taken at the
commit the scmurl names, with no check of its name or stream against the
repository or branch, and no component is looked at. The modulemd is read
through ``run_blocking``, never on the reactor thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twisted.logger import Logger

from ridad.api.inputs import field_problem, json_object_body, shown
from ridad.api.mbs_params import Problems
from ridad.api.submission import RunBlocking
from ridad.api.submission_limits import submission_requester
from ridad.config.model import Config, LiveConfig
from ridad.db.builds import ModuleBuildStore
from ridad.domain.builds import ModuleBuild
from ridad.domain.imported_modules import ImportedBuild, ImportOutcome
from ridad.domain.mbs_views import Detail, mbs_module_build
from ridad.errors import Conflict, Forbidden, InvalidRequest
from ridad.modulemd.imported import (
    ImportDocument,
    configured_base_module,
    load_import,
)
from ridad.scm.git import GitClient
from ridad.scm.url import parse_scmurl
from ridad.scm.whitelist import Whitelist
from ridad.transitions import Transitions

IMPORT_FIELDS = {"scmurl": str, "modulemd": str}
log = Logger()


@dataclass(frozen=True)
class ImportRequest:
    """What to import: a module's location, or a modulemd text."""

    scmurl: str | None = None
    modulemd: str | None = None


def parse_import(raw: bytes) -> ImportRequest:
    """Parse an import body: ``{"scmurl": ...}`` or ``{"modulemd": ...}``.

    :raises InvalidRequest: not a JSON object, unknown or bad fields, none
        or both of the two.
    """
    body = json_object_body(raw)
    problems = Problems()
    for key, value in body.items():
        expected = IMPORT_FIELDS.get(key)
        if expected is None:
            problems.add(shown(key), "unknown field; remove it")
            continue
        problem = field_problem(value, expected)
        if problem:
            problems.add(key, problem)
    problems.raise_any(
        "the import has bad fields", "; give scmurl or modulemd (text) only"
    )
    if "scmurl" in body and "modulemd" in body:
        raise InvalidRequest(
            "give scmurl or modulemd, not both",
            details={"fields": {"modulemd": "remove it, or remove scmurl"}},
        )
    if "scmurl" not in body and "modulemd" not in body:
        raise InvalidRequest(
            "Missing scmurl: give the module's location in scmurl (as in"
            " git://host/modules/foo.git?#<commit>) or its text in modulemd",
            details={"fields": {"scmurl": "missing"}},
        )
    return ImportRequest(scmurl=body.get("scmurl"), modulemd=body.get("modulemd"))


def mbs_import_view(build: ModuleBuild, api_version: int) -> dict[str, Any]:
    """The ``module`` of MBS's import answer (``json(show_tasks=False)``):
    no tasks, ``buildrequires`` as in ``xmd.mbs``, ``scmurl`` null when the
    modulemd came in the request."""
    view = mbs_module_build(build, [], detail=Detail.DEFAULT, api_version=api_version)
    view.pop("tasks", None)
    view.update(
        scmurl=build.scmurl or None,
        rebuild_strategy="all",
        siblings=[],
        srpms=[],
        buildrequires=dict(build.buildrequires),
    )
    return view


def import_messages(outcome: ImportOutcome) -> list[str]:
    """MBS's ``messages`` of an import."""
    nsvc = outcome.build.build.nsvc
    messages = [] if outcome.created else [f"Updating existing module build {nsvc}."]
    return messages + [f"Module {nsvc} imported"]


class ModuleImporter:
    """Reads a modulemd to import and records it."""

    def __init__(
        self,
        *,
        config: LiveConfig,
        git: GitClient,
        transitions: Transitions,
        run_blocking: RunBlocking[Any],
    ) -> None:
        self._config = config
        self._git = git
        self._transitions = transitions
        self._run_blocking = run_blocking

    async def import_module(self, request: ImportRequest, owner: str) -> ImportOutcome:
        """Read and record an import for ``owner``.

        :raises InvalidRequest: the scmurl cannot be parsed.
        :raises Forbidden: the scmurl is not under ``scm.allowed``.
        :raises Unprocessable: the modulemd cannot be fetched, is not valid
            modulemd v2, or breaks one of MBS's import rules.
        :raises Conflict: ridad built a module of that NSVC.
        """
        config = self._config.current
        scmurl, commit = "", ""
        text: str | bytes
        if request.scmurl is not None:
            scmurl = request.scmurl
            text, commit = await self._fetch(config, scmurl, owner)
        else:
            assert request.modulemd is not None
            text = request.modulemd
        accepted: ImportDocument = await self._run_blocking(
            lambda: load_import(text, base_module_names=config.base_module_names)
        )
        imported = ImportedBuild(accepted.module, accepted.text, owner, scmurl, commit)
        return await self._transitions.import_module_build(imported)

    async def _fetch(self, config: Config, text: str, owner: str) -> tuple[bytes, str]:
        """The modulemd at the commit ``text`` names, and that commit."""
        scmurl = parse_scmurl(text)
        if not Whitelist(config.scm.allowed).allows(scmurl.repository):
            raise Forbidden(
                f"The submitted scmurl {scmurl.repository.url} is not allowed;"
                " ask the administrators to add it to scm.allowed"
            )
        requester = submission_requester(config, owner)
        resolved = await self._git.resolve_ref(
            scmurl.repository, scmurl.ref, requester=requester
        )
        fetched = await self._git.fetch_file(
            scmurl.repository,
            resolved.commit,
            scmurl.modulemd_path,
            requester=requester,
        )
        return fetched.content, resolved.commit


#: The owner of the base modules imported from ``koji.base_module_tags``: a
#: name in angle brackets, which no user can log in as.
CONFIGURED_OWNER = "<ridad>"


def configured_base_modules(config: Config) -> list[ImportDocument]:
    """The base modules ``koji.base_module_tags`` names, as imports.

    :raises Unprocessable: an entry MBS's import rules refuse (a dash in
        the stream: a base module needs a disttag_marking for that).
    """
    if config.koji is None:
        return []
    documents = []
    for key, tag in config.koji.base_module_tags:
        name, stream = key.split(":")
        documents.append(
            configured_base_module(
                name, stream, tag, base_module_names=config.base_module_names
            )
        )
    return documents


async def import_configured_base_modules(
    config: Config, builds: ModuleBuildStore, transitions: Transitions
) -> list[ImportOutcome]:
    """Import (or update) each base module of ``koji.base_module_tags`` at
    start-up, owned by ``<ridad>``: unchanged ones write nothing. A row of
    that NSVC an administrator imported, or ridad built, is left alone."""
    outcomes = []
    for document in configured_base_modules(config):
        module = document.module
        key = (module.name, module.stream, module.version, module.context)
        existing = await builds.find_unfailed(*key)
        if existing is not None and (
            not existing.imported or existing.owner != CONFIGURED_OWNER
        ):
            log.info(
                "Base module build {module_build_id} is not <ridad>'s import;"
                " koji.base_module_tags leaves it as it is",
                module_build_id=existing.id,
            )
            continue
        imported = ImportedBuild(module, document.text, CONFIGURED_OWNER)
        try:
            outcomes.append(await transitions.import_module_build(imported))
        except Conflict as e:
            log.warn("koji.base_module_tags: {reason}", reason=e.message)
    return outcomes
