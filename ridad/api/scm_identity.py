"""Which module a submission may build: its name, stream and version.

As under MBS, the SCM location decides: the name is the repository's (its
last path segment without ``.git``) and the stream is the branch (the
submitted ``branch``, else the ref when it is a branch). A modulemd may
leave them out; one that names another module or stream is refused unless
``scm.allow_name_override`` / ``scm.allow_stream_override`` allow it, and a
version of its own only with ``scm.allow_version_override``. So a commit to
repository ``foo`` cannot build module ``bar``, nor a commit to branch
``private`` the stream ``main``.
"""

from __future__ import annotations

import re

from ridad.config.model import ScmConfig
from ridad.domain.modulemd import ModuleStreamDocument
from ridad.errors import InvalidRequest, Unprocessable
from ridad.scm.refs import check_ref
from ridad.scm.url import ScmUrl

__all__ = [
    "IDENTIFIER",
    "MAX_IDENTIFIER_LENGTH",
    "checked_branch",
    "checked_identity",
    "module_identity",
    "refuse_own_version",
]

IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
#: Name and stream are both in the ``(name, stream, version, context)``
#: unique index, whose entries PostgreSQL limits to 2704 bytes.
MAX_IDENTIFIER_LENGTH = 255


def checked_branch(branch: str | None) -> str | None:
    """The submitted ``branch`` as a branch name, after git's ref checks.

    :param branch: the ``branch`` field of a submission, or None.
    :return: the name without ``refs/heads/``, or None when none was given.
    :raises InvalidRequest: the field is not a safe, valid ref.
    """
    if branch is None:
        return None
    try:
        check_ref(branch)
    except InvalidRequest as e:
        message = "branch: " + e.message.replace("The ref", "the branch", 1)
        raise InvalidRequest(
            message, details={"fields": {"branch": e.message}}
        ) from None
    return branch.removeprefix("refs/heads/")


def module_identity(
    document: ModuleStreamDocument,
    scmurl: ScmUrl,
    branch: str | None,
    scm: ScmConfig,
) -> tuple[str, str]:
    """The module's name and stream.

    :param document: the submitted modulemd.
    :param scmurl: where it came from.
    :param branch: the branch of the submission (see the module docstring),
        None when the ref is a commit or a tag and no branch was given.
    :param scm: the ``scm`` settings with the override switches.
    :return: ``(name, stream)``.
    :raises Unprocessable: the modulemd names another module or stream than
        its location, or there is no branch to take the stream from.
    """
    name = _name(document, scmurl, scm.allow_name_override)
    stream = _stream(document, scmurl, branch, scm.allow_stream_override)
    return checked_identity(name, stream)


def checked_identity(name: str, stream: str) -> tuple[str, str]:
    """``(name, stream)`` when both are usable identifiers.

    :raises Unprocessable: one is too long or holds other characters.
    """
    for label, value in (("name", name), ("stream", stream)):
        if len(value) > MAX_IDENTIFIER_LENGTH:
            raise Unprocessable(
                f"module {label} is {len(value)} characters long; at most"
                f" {MAX_IDENTIFIER_LENGTH} are allowed"
            )
        if not IDENTIFIER.match(value):
            raise Unprocessable(
                f"module {label} {value!r} may only hold letters, digits"
                " and . _ + - (and must start with a letter or digit)"
            )
    return name, stream


def refuse_own_version(document: ModuleStreamDocument, scm: ScmConfig) -> None:
    """Refuse a modulemd that sets its version, unless the settings allow it.

    :raises Unprocessable: ``data.version`` is set and
        ``scm.allow_version_override`` is false.
    """
    if document.version is None or scm.allow_version_override:
        return
    raise Unprocessable(
        f"the modulemd sets data.version to {document.version}; ridad computes"
        " the version from the base module's stream and the commit time:"
        " remove data.version",
        details=_mismatch("data.version", str(document.version), None),
    )


def _name(document: ModuleStreamDocument, scmurl: ScmUrl, allowed: bool) -> str:
    repository = scmurl.name
    if document.name is None or document.name == repository:
        return repository
    if allowed:
        return document.name
    raise Unprocessable(
        f"the modulemd's data.name is {document.name!r} but the repository"
        f" {scmurl.repository.url} builds the module {repository!r}: remove"
        " data.name, or submit the module from its own repository",
        details=_mismatch("data.name", document.name, repository),
    )


def _stream(
    document: ModuleStreamDocument,
    scmurl: ScmUrl,
    branch: str | None,
    allowed: bool,
) -> str:
    wanted = document.stream
    if branch is not None and (wanted is None or wanted == branch):
        return branch
    if wanted is not None and allowed:
        return wanted
    if branch is None:
        raise Unprocessable(
            f"the ref {scmurl.ref!r} is not a branch and no branch was given, so"
            " the stream is unknown (it is the branch): submit a branch ref, or"
            ' pass "branch" with the branch that holds the commit',
            details=_mismatch("data.stream", wanted, None),
        )
    raise Unprocessable(
        f"the modulemd's data.stream is {wanted!r} but it was submitted from the"
        f" branch {branch!r}, and the stream is the branch: remove data.stream,"
        " or commit to the branch of that stream",
        details=_mismatch("data.stream", wanted, branch),
    )


def _mismatch(
    field: str, modulemd: str | None, expected: str | None
) -> dict[str, str | None]:
    """The details of a refusal: the field, its value, the value required."""
    return {"field": field, "modulemd": modulemd, "required": expected}
