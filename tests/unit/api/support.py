"""What the API handler tests build: an in-memory git (the fake at the git
process boundary), the real verifier and the two Klein apps, and a request
helper for StubTreq.

``FakeGit`` answers the four questions ``SubmissionVerifier`` asks of
``GitClient`` the way the real client does for the cases used here
(``tests/integration/test_git_fetch.py`` checks the real one): a missing
repository, ref or file is an ``Unprocessable`` built by ``git_failure``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from treq.testing import StubTreq
from twisted.internet.defer import Deferred, maybeDeferred

from ridad.api.app import RidadApi
from ridad.api.auth import Authenticator, Authorizer
from ridad.api.imports import ModuleImporter
from ridad.api.mbs import MbsApi
from ridad.api.submission import SubmissionVerifier
from ridad.api.webhooks import WebhookReceiver
from ridad.config.model import ApiConfig, Config, LiveConfig, ScmConfig
from ridad.db.builds import ModuleBuildStore
from ridad.db.mbs_queries import MbsQueryStore
from ridad.db.pool import Pool
from ridad.db.webhooks import WebhookDeliveryStore
from ridad.scm.failures import git_failure
from ridad.scm.git import FetchedFile, ResolvedRef
from ridad.scm.url import RepoLocation
from ridad.transitions import Transitions

GIT = "git://git.example.org"
COMMITTER_TIME = 1_767_225_600  # 2026-01-01T00:00:00Z
CONFIG = Config(
    scm=ScmConfig(
        allowed=(f"{GIT}/modules/",),
        rpms_default_repository=f"{GIT}/rpms/",
        rpms_default_ref="main",
    ),
    api=ApiConfig(max_body_bytes=4096),
)
JSON = {b"Content-Type": [b"application/json"]}


def commit_of(*parts: str) -> str:
    """A stable fake commit hash."""
    return hashlib.sha1("/".join(parts).encode()).hexdigest()


@dataclass
class FakeGit:
    """Repositories in memory: url -> branch -> commit, and files per commit."""

    branches: dict[str, dict[str, str]] = field(default_factory=dict)
    files: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def add(self, url: str, files: dict[str, bytes], branch: str = "main") -> str:
        """Commit ``files`` on ``branch`` of ``url``; return the commit."""
        commit = commit_of(url, branch, *sorted(files))
        self.branches.setdefault(url, {})[branch] = commit
        for path, content in files.items():
            self.files[(commit, path)] = content
        return commit

    def _repository(self, location: RepoLocation) -> dict[str, str]:
        repository = self.branches.get(location.url)
        if repository is None:
            raise git_failure(
                "missing-repository", location, f"{location} does not exist"
            )
        return repository

    async def resolve_ref(
        self, location: RepoLocation, ref: str, *, requester: Any = None
    ) -> ResolvedRef:
        """The commit of a branch, or a commit hash as it is."""
        repository = self._repository(location)
        if ref in repository:
            return ResolvedRef(commit=repository[ref], is_branch=True, branch=ref)
        if ref in repository.values():
            return ResolvedRef(commit=ref, is_branch=False, branch=None)
        raise git_failure("missing-ref", location, f"ref {ref!r} not found")

    async def fetch_file(
        self, location: RepoLocation, commit: str, path: str, *, requester: Any = None
    ) -> FetchedFile:
        """A file's bytes at a commit."""
        self._repository(location)
        content = self.files.get((commit, path))
        if content is None:
            raise git_failure("missing-file", location, f"file {path!r} not found")
        return FetchedFile(content=content, committer_time=COMMITTER_TIME)

    async def has_file(
        self, location: RepoLocation, commit: str, path: str, *, requester: Any = None
    ) -> bool:
        """Whether the file exists at the commit."""
        self._repository(location)
        return (commit, path) in self.files

    async def branch_contains(
        self, location: RepoLocation, branch: str, commit: str, *, requester: Any = None
    ) -> bool:
        """Whether the commit is the branch's tip (no history here)."""
        return self._repository(location).get(branch) == commit


def modulemd(components: tuple[str, ...] = ("alpha", "beta"), **data: Any) -> bytes:
    """A modulemd v2 document building ``components`` against platform f40."""
    body: dict[str, Any] = {
        "summary": "S",
        "description": "D",
        "license": {"module": ["MIT"]},
        "dependencies": [
            {"buildrequires": {"platform": ["f40"]}, "requires": {"platform": ["f40"]}}
        ],
        "components": {
            "rpms": {name: {"rationale": "r", "buildorder": 1} for name in components}
        },
    }
    body.update(data)
    document = {"document": "modulemd", "version": 2, "data": body}
    return yaml.safe_dump(document).encode()


def module_repository(git: FakeGit, name: str, text: bytes) -> str:
    """Commit module ``name`` and its components; return the scmurl."""
    for component in ("alpha", "beta"):
        git.add(f"{GIT}/rpms/{component}", {f"{component}.spec": b"Name: x\n"})
    git.add(f"{GIT}/modules/{name}.git", {f"{name}.yaml": text})
    return f"{GIT}/modules/{name}.git?#main"


@dataclass
class Apps:
    """The two Klein apps over the same collaborators, and StubTreq clients."""

    rida: StubTreq
    mbs: StubTreq
    git: FakeGit
    rida_api: RidadApi
    mbs_api: MbsApi
    submissions: SubmissionVerifier | None = None
    transitions: Transitions | None = None


def make_apps(
    pool: Pool,
    *,
    clock: Any,
    run_blocking: Callable[[Callable[[], Any]], Deferred[Any]] = maybeDeferred,
    config: Config = CONFIG,
    authenticator: Authenticator | None = None,
    authorizer: Authorizer | None = None,
) -> Apps:
    """The verifier and both apps on ``pool`` with an in-memory git
    (anonymous users unless ``authenticator`` is given; everybody may do
    everything unless ``authorizer`` is given)."""
    git = FakeGit()
    builds = ModuleBuildStore(pool=pool)
    transitions = Transitions(pool=pool, clock=clock)
    submissions = SubmissionVerifier(
        config=LiveConfig(config), git=git,  # type: ignore[arg-type]
        builds=builds, pool=pool, transitions=transitions,
        run_blocking=run_blocking, clock=clock,
    )  # fmt: skip
    importer = ModuleImporter(
        config=LiveConfig(config),
        git=git,  # type: ignore[arg-type]
        transitions=transitions,
        run_blocking=run_blocking,
    )
    rida = RidadApi(
        builds=builds,
        submissions=submissions,
        transitions=transitions,
        database_status=pool.ping,
        authenticator=authenticator,
        authorizer=authorizer,
        importer=importer,
        webhooks=WebhookReceiver(
            config=LiveConfig(config),
            submissions=submissions,
            transitions=transitions,
            builds=builds,
            deliveries=WebhookDeliveryStore(pool=pool),
        ),  # fmt: skip
    )
    mbs = MbsApi(
        builds=builds, queries=MbsQueryStore(pool=pool), submissions=submissions,
        transitions=transitions, authenticator=authenticator, authorizer=authorizer,
        importer=importer, cg_tag=lambda: config.koji.cg_tag if config.koji else None,
    )  # fmt: skip
    return Apps(
        rida=StubTreq(rida.app.resource()),
        mbs=StubTreq(mbs.app.resource()),
        git=git,
        rida_api=rida,
        mbs_api=mbs,
        submissions=submissions,
        transitions=transitions,
    )
