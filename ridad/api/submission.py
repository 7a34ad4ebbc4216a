"""Verification of a module build submission, before anything is recorded.

The modulemd is fetched at the submitted commit and validated, its
dependencies are resolved, and every rpm component's repository, ref and
SPEC file are checked, concurrently. Only then is the build recorded.
Its bounds (component count, git fairness and fetch budget) are in
``ridad.api.submission_limits``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from twisted.internet.defer import Deferred, FirstError, gatherResults
from twisted.logger import Logger

from ridad.api.scm_identity import (
    MAX_IDENTIFIER_LENGTH,
    checked_branch,
    module_identity,
    refuse_own_version,
)
from ridad.api.submission_limits import check_component_count, submission_requester
from ridad.config.model import Config, LiveConfig
from ridad.db.builds import ModuleBuildStore
from ridad.domain.buildroot import plan_arches
from ridad.domain.builds import (
    NewComponent,
    NewModuleBuild,
    assign_batches,
    compute_contexts,
    module_version,
)
from ridad.domain.modulemd import ModuleStreamDocument, RpmComponentSpec
from ridad.domain.scheduling import scm_source
from ridad.errors import Conflict, Forbidden, InvalidRequest, Unprocessable
from ridad.modulemd.parse import load_modulemd
from ridad.scm.git import FetchedFile, GitClient, Requester, ResolvedRef
from ridad.scm.url import RepoLocation, ScmUrl, parse_repository, parse_scmurl
from ridad.scm.whitelist import Whitelist
from ridad.transitions import Transitions

EXPANSION = "stream expansion is not supported yet"

T = TypeVar("T")

#: Runs a blocking callable away from the reactor thread (production: a
#: thread pool via ``deferToThreadPool``) and gives its result.
RunBlocking = Callable[[Callable[[], T]], Awaitable[T]]


@dataclass(frozen=True)
class Submission:
    """What a client asked to build."""

    scmurl: str
    #: The branch the commit is on; it must hold the commit (else 400) and
    #: it is the stream.
    branch: str | None
    owner: str


@dataclass(frozen=True)
class Dependencies:
    """Resolved dependencies of a submission."""

    buildrequires: dict[str, Any]
    requires: dict[str, list[str]]
    base_stream: str | None


@functools.lru_cache(maxsize=16)
def _whitelist(entries: tuple[str, ...]) -> Whitelist:
    return Whitelist(entries)


class SubmissionVerifier:
    """Checks a submission against the outside world, then records it.

    The modulemd is parsed through ``run_blocking``, never on the reactor
    thread: a 1 MiB document takes a good fraction of a second.
    """

    log = Logger()

    def __init__(
        self,
        *,
        config: LiveConfig,
        git: GitClient,
        builds: ModuleBuildStore,
        transitions: Transitions,
        run_blocking: RunBlocking[Any],
    ) -> None:
        self._config = config
        self._git = git
        self._builds = builds
        self._transitions = transitions
        self._run_blocking = run_blocking

    async def submit(self, submission: Submission) -> tuple[int, bool]:
        """Verify and record a submission; return its id and whether new.

        :raises InvalidRequest: unparseable scmurl or branch, or a commit
            that is not on the branch.
        :raises Forbidden: scmurl or a component repository not allowed.
        :raises Unprocessable: modulemd or a component cannot be used, or
            the modulemd names another module, stream or version than
            the SCM location gives.
        :raises Conflict: that module version exists and has not failed.
        """
        config = self._config.current
        scmurl = parse_scmurl(submission.scmurl)
        branch = checked_branch(submission.branch)
        _refuse_unlisted(config, scmurl)
        requester = submission_requester(config, submission.owner)
        resolved, fetched, document = await self._read_modulemd(
            config, scmurl, branch, requester
        )
        name, stream = module_identity(
            document, scmurl, branch or resolved.branch, config.scm
        )
        refuse_own_version(document, config.scm)
        dependencies = await self._dependencies(config, document, name)
        build_context, runtime_context, context = compute_contexts(
            {k: v["stream"] for k, v in dependencies.buildrequires.items()},
            dependencies.requires,
        )
        if document.static_context and document.context:
            context = document.context
        version = document.version or module_version(
            base_stream=dependencies.base_stream,
            committer_time=datetime.fromtimestamp(fetched.committer_time, tz=UTC),
        )
        koji = config.koji
        arches = plan_arches(document.arches, None, koji.arches if koji else None)
        await self._refuse_existing(name, stream, version, context)
        components = await self._components(config, document, requester)
        new = NewModuleBuild(
            name=name,
            stream=stream,
            version=version,
            context=context,
            owner=submission.owner,
            scmurl=submission.scmurl,
            scm_commit=resolved.commit,
            branch=branch or resolved.branch,
            modulemd=document.text,
            build_context=build_context,
            runtime_context=runtime_context,
            buildrequires=dependencies.buildrequires,
            requires=dependencies.requires,
            components=components,
            rpm_macros=document.rpm_macros,
            arches=arches,
        )
        return await self._transitions.create_module_build(new)

    async def _read_modulemd(
        self,
        config: Config,
        scmurl: ScmUrl,
        branch: str | None,
        requester: Requester,
    ) -> tuple[ResolvedRef, FetchedFile, ModuleStreamDocument]:
        """Fetch and parse the modulemd; refuse too many components at once.

        :raises InvalidRequest: the commit is not on the submitted branch.
        :raises Unprocessable: the modulemd cannot be fetched or used.
        """
        resolved = await self._git.resolve_ref(
            scmurl.repository, scmurl.ref, requester=requester
        )
        if (
            branch is not None
            and resolved.branch != branch
            and not await self._git.branch_contains(
                scmurl.repository, branch, resolved.commit, requester=requester
            )
        ):
            raise InvalidRequest(
                f"commit {resolved.commit} is not on branch {branch} of"
                f" {scmurl.repository.url}; push it to {branch}, or submit from"
                " the branch that holds it"
            )
        fetched = await self._git.fetch_file(
            scmurl.repository,
            resolved.commit,
            scmurl.modulemd_path,
            requester=requester,
        )
        content = fetched.content
        document: ModuleStreamDocument = await self._run_blocking(
            lambda: load_modulemd(content)
        )
        check_component_count(config, document)
        return resolved, fetched, document

    async def _refuse_existing(
        self, name: str, stream: str, version: int, context: str
    ) -> None:
        """Answer 409 before the component checks when the build exists.

        The transaction that records the build checks again (a concurrent
        submission may get there first).
        """
        existing = await self._builds.find_unfailed(name, stream, version, context)
        if existing is not None:
            raise Conflict(
                f"Module build {existing.nsvc} already exists (id {existing.id},"
                f" state {existing.state.label}); only a failed build may be"
                " submitted again",
                details={"id": existing.id, "state": existing.state.label},
            )

    async def _dependencies(
        self, config: Config, document: ModuleStreamDocument, name: str
    ) -> Dependencies:
        base_names = config.base_module_names
        if name in base_names:
            raise Unprocessable(f"{name} is a base module; ridad does not build it")
        if len(document.dependencies) > 1:
            raise Unprocessable(
                f"{EXPANSION}: dependencies lists {len(document.dependencies)}"
                " alternatives; keep exactly one"
            )
        item = document.dependencies[0] if document.dependencies else None
        buildrequires: dict[str, Any] = {}
        requires: dict[str, list[str]] = {}
        for key, streams in (item.buildrequires if item else {}).items():
            stream = _single_stream("buildrequires", key, streams)
            buildrequires[key] = await self._buildrequire(config, key, stream)
        for key, streams in (item.requires if item else {}).items():
            requires[key] = [_single_stream("requires", key, streams)]
        base_stream = next(
            (buildrequires[b]["stream"] for b in base_names if b in buildrequires),
            None,
        )
        return Dependencies(buildrequires, requires, base_stream)

    async def _buildrequire(
        self, config: Config, name: str, stream: str
    ) -> dict[str, Any]:
        if name in config.base_module_names:
            koji_tag = None
            if config.koji is not None:
                koji_tag = config.koji.base_module_tag(name, stream)
                if koji_tag is None:
                    raise Unprocessable(
                        f"base module {name}:{stream} has no Koji tag configured;"
                        " ask the administrators to add it to"
                        " koji.base_module_tags, or buildrequire a configured stream"
                    )
            return {"stream": stream, "base_module": True, "koji_tag": koji_tag}
        ready = await self._builds.newest_ready(name, stream)
        if ready is None:
            raise Unprocessable(
                f"buildrequires {name}:{stream}, which has no ready build in"
                " ridad; build it first"
            )
        return {
            "stream": stream,
            "version": str(ready.version),
            "context": ready.context,
            "module_build_id": ready.id,
            "koji_tag": ready.koji_tag,
            "base_module": False,
        }

    async def _components(
        self, config: Config, document: ModuleStreamDocument, requester: Requester
    ) -> tuple[NewComponent, ...]:
        if document.module_components:
            raise Unprocessable(
                "components.modules (included modules) are not supported;"
                " build them as modules of their own"
            )
        if not document.rpm_components:
            raise Unprocessable("the modulemd lists no rpm components to build")
        _check_component_names(document.rpm_components)
        batches = assign_batches(
            {c.key: c.buildorder for c in document.rpm_components},
            {c.key: c.buildafter for c in document.rpm_components},
        )
        locations = [self._location(config, c) for c in document.rpm_components]
        try:
            results = await gatherResults(
                [
                    Deferred.fromCoroutine(
                        self._verify_component(config, spec, location, requester)
                    )
                    for spec, location in zip(
                        document.rpm_components, locations, strict=True
                    )
                ],
                consumeErrors=True,
            )
        except FirstError as e:
            e.subFailure.raiseException()
        failures = [r for r in results if isinstance(r, str)]
        if failures:
            raise Unprocessable(
                "components cannot be retrieved: " + "; ".join(failures),
                details={"components": failures},
            )
        return tuple(
            NewComponent(
                name=spec.key,
                package=spec.name or spec.key,
                repository=location.url,
                ref=ref,
                scm_commit=commit,
                batch=batches[spec.key],
                buildorder=spec.buildorder,
                buildafter=spec.buildafter,
                buildonly=spec.buildonly,
                source=scm_source(location.url, commit),
                arches=spec.arches or None,
            )
            for spec, location, (ref, commit) in zip(
                document.rpm_components, locations, results, strict=True
            )
        )

    def _location(self, config: Config, spec: RpmComponentSpec) -> RepoLocation:
        default = parse_repository(config.scm.rpms_default_repository)
        if spec.repository is None:
            return default.join(spec.key)
        try:
            location = parse_repository(spec.repository)
        except InvalidRequest as e:
            raise Unprocessable(
                f"components.rpms.{spec.key}.repository: {e.message}"
            ) from None
        allowed = _whitelist(
            (config.scm.rpms_default_repository,) + config.scm.rpms_allowed
        )
        if not allowed.allows(location):
            raise Forbidden(
                f"components.rpms.{spec.key}.repository {location.url} is not an"
                " allowed component location; ask the administrators to add it"
                " to scm.rpms_allowed"
            )
        return location

    async def _verify_component(
        self,
        config: Config,
        spec: RpmComponentSpec,
        location: RepoLocation,
        requester: Requester,
    ) -> tuple[str, str] | str:
        ref = spec.ref or config.scm.rpms_default_ref
        try:
            resolved = await self._git.resolve_ref(location, ref, requester=requester)
            spec_file = f"{spec.key}.spec"
            if not await self._git.has_file(
                location, resolved.commit, spec_file, requester=requester
            ):
                return (
                    f"{spec.key}: {spec_file} does not exist at {resolved.commit}"
                    f" in {location.url}"
                )
        except Unprocessable as e:
            return f"{spec.key}: {e.message}"
        return ref, resolved.commit


def _refuse_unlisted(config: Config, scmurl: ScmUrl) -> None:
    """:raises Forbidden: the module's repository is not under ``scm.allowed``."""
    if not _whitelist(config.scm.allowed).allows(scmurl.repository):
        raise Forbidden(
            f"{scmurl.repository.url} is not an allowed module location;"
            " ask the administrators to add it to scm.allowed"
        )


def _single_stream(section: str, name: str, streams: Sequence[str]) -> str:
    if len(streams) != 1 or streams[0].startswith("-") or not streams[0]:
        raise Unprocessable(
            f"{EXPANSION}: {section} {name} lists {list(streams)}; name exactly"
            " one stream"
        )
    return streams[0]


def _check_component_names(components: Sequence[RpmComponentSpec]) -> None:
    """:raises Unprocessable: a component name is too long for the index."""
    long = [c.key for c in components if len(c.key) > MAX_IDENTIFIER_LENGTH]
    if long:
        raise Unprocessable(
            f"components.rpms: {len(long)} component names are longer than"
            f" {MAX_IDENTIFIER_LENGTH} characters (the first starts with"
            f" {long[0][:40]!r})"
        )
