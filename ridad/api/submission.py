"""Verification of a module build submission, before anything is recorded.

The modulemd is fetched at the submitted commit and validated, its
dependencies are resolved, and every rpm component's repository, ref and
SPEC file are checked, concurrently. Only then is the build recorded, or,
for a dry run, what recording would do is read and nothing is written.
Its bounds (component count, git fairness and fetch budget) are in
``ridad.api.submission_limits``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ridad.api.build_choices import (
    BuildChoices,
    check_branch,
    rebuild_strategy,
    reuse_source,
    scratch_choices,
)
from ridad.api.buildroot_facts import TagArches, sibling_arches
from ridad.api.component_checks import verify_components
from ridad.api.mbs_bodies import SubmitFields
from ridad.api.module_source import (
    ModuleSource,
    check_body_document_allowed,
    from_body,
    from_git,
)
from ridad.api.scm_identity import (
    checked_branch,
    refuse_own_version,
)
from ridad.api.siblings import (
    new_sibling,
    sibling_context,
    sibling_text,
    sibling_version,
)
from ridad.api.submission_limits import (
    submission_requester,
)
from ridad.api.submit_options import SubmitOptions
from ridad.config.model import Config, LiveConfig
from ridad.db.builds import ModuleBuildStore
from ridad.db.candidates import add_unrecorded_bases, load_candidates
from ridad.db.pool import Pool
from ridad.db.submission_plan import PlannedBuild
from ridad.domain.builds import NewModuleBuild
from ridad.domain.modulemd import ModuleStreamDocument
from ridad.domain.mse import Expansion, ExpansionRules, expand, first_names
from ridad.errors import Conflict, Forbidden, Unprocessable
from ridad.scm.git import GitClient, Requester
from ridad.scm.url import ScmUrl, parse_scmurl
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

    @classmethod
    def of(cls, fields: SubmitFields, owner: str) -> Submission:
        """The submission of a parsed body (either API's) by ``owner``."""
        return cls(
            scmurl=fields.scmurl,
            branch=fields.branch,
            owner=owner,
            options=fields.options,
            **fields.overrides,
        )


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
        clock: IReactorTime,
        tag_arches: TagArches | None = None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._tag_arches = tag_arches
        self._git = git
        self._builds = builds
        self._pool = pool
        self._transitions = transitions
        self._run_blocking = run_blocking

    async def submit(self, submission: Submission) -> list[tuple[int, bool]]:
        """Verify a submission and record one build per expansion (the MSE
        siblings, ordered as expanded); return each id and whether it is new.

        :raises: see ``verified``.
        """
        return await self._transitions.create_module_builds(
            await self.verified(submission)
        )

    async def dry_run(self, submission: Submission) -> list[PlannedBuild]:
        """Every check of ``submit``, in its order, and what recording would
        do to each sibling; nothing is recorded (docs/data-flow.md).

        The recording's own checks (an NSVC that exists and has not failed,
        a failed build's components, a scratch build's ``_N`` context) are
        its reads, run in a read-only transaction.

        :raises: what ``submit`` raises for the same submission now.
        """
        return await self._builds.plan_submission(await self.verified(submission))

    async def verified(self, submission: Submission) -> list[NewModuleBuild]:
        """Verify a submission: the MSE siblings to record, ordered as
        expanded.

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
        options = submission.options
        scratch_choices(config.builds, options)
        check_body_document_allowed(config, options)
        requester = submission_requester(config, submission.owner)
        source = await self._source(config, submission, requester)
        document, name, stream = source.document, source.name, source.stream
        refuse_own_version(document, config.scm)
        choices = await self._choices(config, options, name, source.branch)
        expansions = await self._expand(config, document, name, submission)
        named = [
            (
                e,
                document.version or sibling_version(e, source.time),
                sibling_context(document, e, expansions),
            )
            for e in expansions
        ]
        if not choices.scratch:  # a scratch build gets a context of its own
            await self._refuse_existing(name, stream, named)
        components = await verify_components(
            self._git, config, document, requester, options.srpms
        )
        arches = await sibling_arches(
            document.arches, expansions, config.koji, self._tag_arches
        )
        news = [
            new_sibling(
                submission.owner, source, components, archs, choices,
                (name, stream, version, context), expansion,
                await self._run_blocking(
                    functools.partial(sibling_text, document, expansion)
                ),
            )
            for (expansion, version, context), archs in zip(
                named, arches, strict=True
            )
        ]  # fmt: skip
        return news

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

    async def _source(
        self, config: Config, submission: Submission, requester: Requester
    ) -> ModuleSource:
        """The modulemd: from the body when it holds one, else from git."""
        branch = checked_branch(submission.branch)
        if submission.options.modulemd is not None:
            if submission.scmurl is not None:
                _refuse_unlisted(config, parse_scmurl(submission.scmurl))
            return await from_body(
                config,
                submission.options,
                submission.scmurl,
                branch,
                now=datetime.fromtimestamp(self._clock.seconds(), tz=UTC),
                run_blocking=self._run_blocking,
            )
        scmurl = parse_scmurl(submission.scmurl or "")
        _refuse_unlisted(config, scmurl)
        return await from_git(
            self._git, config, scmurl, branch, requester, self._run_blocking
        )

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


def _refuse_unlisted(config: Config, scmurl: ScmUrl) -> None:
    """:raises Forbidden: the module's repository is not under ``scm.allowed``."""
    if not _whitelist(config.scm.allowed).allows(scmurl.repository):
        raise Forbidden(
            f"{scmurl.repository.url} is not an allowed module location;"
            " ask the administrators to add it to scm.allowed"
        )
