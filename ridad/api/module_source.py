"""Where a submission's modulemd comes from: fetched from git at the
submitted commit (the usual way), or given in the body (``modulemd``, or a
multipart ``yaml`` file, as fedpkg's ``--file`` sends it).

A document in the body is accepted for scratch builds always, and for
other builds only with ``builds.allow_yaml_submissions`` (403 otherwise,
MBS's message). It passes the same validation; its name is its own, else
``module_name``; its stream ``module_stream``, else its own, else
``master`` (MBS's rules); its version is stamped from the submission time,
where an SCM submission's comes from the commit time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ridad.api.scm_identity import checked_identity, module_identity
from ridad.api.submission_limits import check_component_count
from ridad.api.submit_options import SubmitOptions
from ridad.config.model import Config
from ridad.domain.modulemd import ModuleStreamDocument
from ridad.errors import Forbidden, InvalidRequest, Unprocessable
from ridad.modulemd.parse import load_modulemd
from ridad.scm.git import GitClient, Requester
from ridad.scm.url import ScmUrl

RunBlocking = Callable[[Callable[[], Any]], Awaitable[Any]]
DEFAULT_STREAM = "master"


@dataclass(frozen=True)
class ModuleSource:
    """A submission's modulemd and where it came from."""

    document: ModuleStreamDocument
    name: str
    stream: str
    #: The SCM URL recorded on the build ('' for a document given in the
    #: body without one).
    scmurl: str
    #: The commit of the module's repository ('' for a document in the body).
    commit: str
    branch: str | None
    #: The time the version is stamped from.
    time: datetime


def check_body_document_allowed(config: Config, options: SubmitOptions) -> None:
    """:raises Forbidden: a document in the body of a build that is not a
    scratch build, unless ``builds.allow_yaml_submissions``."""
    if (
        options.modulemd is not None
        and not options.scratch
        and not config.builds.allow_yaml_submissions
    ):
        raise Forbidden(
            "YAML submission is not enabled: submit the module's scmurl and"
            " branch, or a scratch build (builds.allow_yaml_submissions is"
            " false on this server)"
        )


async def from_body(
    config: Config,
    options: SubmitOptions,
    scmurl: str | None,
    branch: str | None,
    *,
    now: datetime,
    run_blocking: RunBlocking,
) -> ModuleSource:
    """The document given in the body, validated as if fetched.

    :raises Unprocessable: it is not a valid modulemd, has too many
        components, or has no name and ``module_name`` gives none.
    """
    text = (options.modulemd or "").encode("utf-8")
    document: ModuleStreamDocument = await run_blocking(lambda: load_modulemd(text))
    check_component_count(config, document)
    name = document.name or options.module_name
    if not name:
        raise Unprocessable(
            "The module's name was not present in the modulemd file. Please"
            ' use the "module_name" parameter'
        )
    stream = options.module_stream or document.stream or DEFAULT_STREAM
    name, stream = checked_identity(name, stream)
    return ModuleSource(
        document=document,
        name=name,
        stream=stream,
        scmurl=scmurl or "",
        commit="",
        branch=branch,
        time=now,
    )


async def from_git(
    git: GitClient,
    config: Config,
    scmurl: ScmUrl,
    branch: str | None,
    requester: Requester,
    run_blocking: RunBlocking,
) -> ModuleSource:
    """Fetch and parse the modulemd; refuse too many components at once.

    :raises InvalidRequest: the commit is not on the submitted branch.
    :raises Unprocessable: the modulemd cannot be fetched or used, or names
        another module or stream than its location.
    """
    resolved = await git.resolve_ref(scmurl.repository, scmurl.ref, requester=requester)
    if (
        branch is not None
        and resolved.branch != branch
        and not await git.branch_contains(
            scmurl.repository, branch, resolved.commit, requester=requester
        )
    ):
        raise InvalidRequest(
            f"commit {resolved.commit} is not on branch {branch} of"
            f" {scmurl.repository.url}; push it to {branch}, or submit from"
            " the branch that holds it"
        )
    fetched = await git.fetch_file(
        scmurl.repository, resolved.commit, scmurl.modulemd_path, requester=requester
    )
    content = fetched.content
    document: ModuleStreamDocument = await run_blocking(lambda: load_modulemd(content))
    check_component_count(config, document)
    name, stream = module_identity(
        document, scmurl, branch or resolved.branch, config.scm
    )
    return ModuleSource(
        document=document,
        name=name,
        stream=stream,
        scmurl=scmurl.original,
        commit=resolved.commit,
        branch=branch or resolved.branch,
        time=datetime.fromtimestamp(fetched.committer_time, tz=UTC),
    )
