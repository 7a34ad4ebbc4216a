"""Verification of a module build submission, before anything is recorded.

The modulemd is fetched at the submitted commit and validated, its
dependencies are resolved, and every rpm component's repository, ref and
SPEC file are checked, concurrently. Only then is the build recorded.
Its bounds (component count, git fairness and fetch budget) are in
``ridad.api.submission_limits``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from twisted.internet.defer import Deferred, FirstError, gatherResults
from twisted.logger import Logger

from ridad.api.build_choices import (
    BuildChoices,
    check_branch,
    rebuild_strategy,
    reuse_source,
    scratch_choices,
)
from ridad.api.buildroot_facts import TagArches, sibling_arches
from ridad.api.scm_identity import (
    checked_branch,
    module_identity,
    refuse_own_version,
)
from ridad.api.siblings import (
    new_sibling,
    sibling_context,
    sibling_text,
    sibling_version,
)
from ridad.api.submission_limits import (
    check_component_count,
    check_component_names,
    submission_requester,
)
from ridad.api.submit_options import SubmitOptions
from ridad.config.model import Config, LiveConfig
from ridad.db.builds import ModuleBuildStore
from ridad.db.candidates import add_unrecorded_bases, load_candidates
from ridad.db.pool import Pool
from ridad.domain.builds import (
    NewComponent,
    assign_batches,
)
from ridad.domain.modulemd import ModuleStreamDocument, RpmComponentSpec
from ridad.domain.mse import Expansion, ExpansionRules, expand, first_names
from ridad.domain.scheduling import scm_source
from ridad.errors import Conflict, Forbidden, InvalidRequest, Unprocessable
from ridad.modulemd.parse import load_modulemd
from ridad.scm.git import FetchedFile, GitClient, Requester, ResolvedRef
from ridad.scm.url import RepoLocation, ScmUrl, parse_repository, parse_scmurl
from ridad.scm.whitelist import Whitelist
from ridad.transitions import Transitions

T = TypeVar("T")

#: Runs a blocking callable away from the reactor thread (production: a
#: thread pool via ``deferToThreadPool``) and gives its result.
RunBlocking = Callable[[Callable[[], T]], Awaitable[T]]


@dataclass(frozen=True)
class Submission:
    """What a client asked to build."""

    #: The modulemd's location; None only when ``options.modulemd`` gives
    #: the document itself.
    scmurl: str | None
    #: The branch the commit is on; it must hold the commit (else 400) and
    #: it is the stream.
    branch: str | None
    owner: str
    #: MBS's ``buildrequire_overrides`` / ``require_overrides``: module name
    #: to the streams that replace those the modulemd lists.
    buildrequire_overrides: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    require_overrides: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Scratch, rebuild strategy, reuse, a modulemd in the body, SRPMs.
    options: SubmitOptions = field(default_factory=SubmitOptions)


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
        pool: Pool,
        transitions: Transitions,
        run_blocking: RunBlocking[Any],
        tag_arches: TagArches | None = None,
    ) -> None:
        self._config = config
        self._tag_arches = tag_arches
        self._git = git
        self._builds = builds
        self._pool = pool
        self._transitions = transitions
        self._run_blocking = run_blocking

    async def submit(self, submission: Submission) -> list[tuple[int, bool]]:
        """Verify a submission and record one build per expansion (the MSE
        siblings, ordered as expanded); return each id and whether it is new.

        :raises InvalidRequest: unparseable scmurl or branch, a commit that
            is not on the branch, or an override naming no module.
        :raises Forbidden: scmurl or a component repository not allowed.
        :raises Unprocessable: modulemd or a component cannot be used, the
            modulemd names another module, stream or version than the SCM
            location gives, no dependency combination can be built, or a
            sibling has no arch left to build for.
        :raises Conflict: every sibling exists and none has failed.
        """
        config = self._config.current
        scratch_choices(config.builds, submission.options)
        scmurl = parse_scmurl(submission.scmurl or "")
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
        choices = await self._choices(
            config, submission.options, name, branch or resolved.branch
        )
        expansions = await self._expand(config, document, name, submission)
        committed = datetime.fromtimestamp(fetched.committer_time, tz=UTC)
        named = [
            (
                e,
                document.version or sibling_version(e, committed),
                sibling_context(document, e, expansions),
            )
            for e in expansions
        ]
        await self._refuse_existing(name, stream, named)
        components = await self._components(config, document, requester)
        arches = await sibling_arches(
            document.arches, expansions, config.koji, self._tag_arches
        )
        news = [
            new_sibling(
                submission, resolved, branch, document, components, archs, choices,
                (name, stream, version, context), expansion,
                await self._run_blocking(
                    functools.partial(sibling_text, document, expansion)
                ),
            )
            for (expansion, version, context), archs in zip(
                named, arches, strict=True
            )
        ]  # fmt: skip
        return await self._transitions.create_module_builds(news)

    async def _choices(
        self, config: Config, options: SubmitOptions, name: str, branch: str | None
    ) -> BuildChoices:
        """Scratch, rebuild strategy, reuse source and SRPMs, checked."""
        check_branch(config.builds, options.scratch, branch)
        return BuildChoices(
            scratch=options.scratch,
            rebuild_strategy=rebuild_strategy(config.builds, options),
            reused_module_id=await reuse_source(self._builds, options, name),
            srpms=options.srpms,
        )

    async def _expand(
        self,
        config: Config,
        document: ModuleStreamDocument,
        name: str,
        submission: Submission,
    ) -> list[Expansion]:
        """The MSE siblings of ``document`` (docs/mbs-resolution.md §3).

        :raises Unprocessable: ``name`` is a base module, or nothing can be
            built (the message says what could not be satisfied).
        """
        if name in config.base_module_names:
            raise Unprocessable(f"{name} is a base module; ridad does not build it")
        rules = ExpansionRules(
            base_module_names=config.base_module_names,
            max_expansions=config.api.max_expansions,
        )
        dependencies = document.dependencies
        pool = await load_candidates(
            self._pool, first_names(dependencies, rules), rules.base_module_names
        )
        add_unrecorded_bases(
            pool,
            dependencies,
            rules.base_module_names,
            dict(config.koji.base_module_tags) if config.koji else None,
        )
        return await self._run_blocking(
            functools.partial(
                expand,
                dependencies,
                pool,
                rules,
                buildrequire_overrides=submission.buildrequire_overrides,
                require_overrides=submission.require_overrides,
            )
        )

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
        self, name: str, stream: str, named: Sequence[tuple[Expansion, int, str]]
    ) -> None:
        """Answer 409 before the component checks when every sibling exists.

        A sibling that exists and has not failed is kept as it is (MBS's
        rule: a submission may add the builds new buildrequires give); the
        transaction that records the builds checks again.
        """
        existing = []
        for _, version, context in named:
            build = await self._builds.find_unfailed(name, stream, version, context)
            if build is None:
                return
            existing.append(build)
        first = existing[0]
        raise Conflict(
            f"Module build {first.nsvc} already exists (id {first.id},"
            f" state {first.state.label}); only a failed build may be"
            " submitted again",
            details={"id": first.id, "state": first.state.label},
        )

    async def _components(
        self, config: Config, document: ModuleStreamDocument, requester: Requester
    ) -> tuple[NewComponent, ...]:
        if document.module_components:
            raise Unprocessable(
                "components.modules (included modules) are not supported;"
                " build them as modules of their own"
            )
        if not document.rpm_components:
            return ()  # metadata-only: the scheduler goes straight to the import
        check_component_names(document.rpm_components)
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
