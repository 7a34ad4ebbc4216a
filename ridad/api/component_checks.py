"""The rpm components of a submission, checked against git before anything
is recorded: each repository is allowed, its ref resolves to a commit, and
``<key>.spec`` is a file at that commit. All at once; every failing
component is named in one 422.

A scratch build's component may instead come from an SRPM the client
uploaded to Koji (``srpms``: ``cli-build/<dir>/<package>.src.rpm``, as
fedpkg's ``--srpm`` uploads it): it is built from that file, and git is not
asked about it.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Mapping, Sequence

from twisted.internet.defer import Deferred, FirstError, gatherResults

from ridad.api.submission_limits import check_component_names
from ridad.config.model import Config
from ridad.domain.builds import NewComponent, assign_batches
from ridad.domain.modulemd import ModuleStreamDocument, RpmComponentSpec
from ridad.domain.scheduling import scm_source
from ridad.errors import Forbidden, InvalidRequest, Unprocessable
from ridad.scm.git import GitClient, Requester
from ridad.scm.url import RepoLocation, parse_repository
from ridad.scm.whitelist import Whitelist

SRPM_PREFIX = "cli-build/"
SRPM_SUFFIX = ".src.rpm"
#: The ``ref`` recorded for a component built from an uploaded SRPM.
SRPM_REF = "srpm"


@functools.lru_cache(maxsize=16)
def _whitelist(entries: tuple[str, ...]) -> Whitelist:
    return Whitelist(entries)


def srpm_overrides(
    srpms: Sequence[str], document: ModuleStreamDocument
) -> dict[str, str]:
    """Each uploaded SRPM by the component it replaces: the file's name less
    ``.src.rpm`` is the component's key (what fedpkg names the upload).

    :raises Unprocessable: a path that is no Koji upload of an SRPM, two
        for one component, or one that names no component.
    """
    keys = {c.key for c in document.rpm_components}
    overrides: dict[str, str] = {}
    problems = []
    for path in srpms:
        name = posixpath.basename(path)[: -len(SRPM_SUFFIX)]
        if (
            not path.startswith(SRPM_PREFIX)
            or not path.endswith(SRPM_SUFFIX)
            or posixpath.normpath(path) != path
            or ".." in path.split("/")
            or not name
        ):
            problems.append(
                f"{path!r} is not a Koji upload of an SRPM"
                f" ({SRPM_PREFIX}<directory>/<component>{SRPM_SUFFIX})"
            )
        elif name not in keys:
            problems.append(f"{path!r}: the module has no component {name!r}")
        elif name in overrides:
            problems.append(f"{path!r}: a second SRPM for component {name!r}")
        else:
            overrides[name] = path
    if problems:
        raise Unprocessable(
            "srpms cannot be used: " + "; ".join(problems),
            details={"srpms": problems},
        )
    return overrides


async def verify_components(
    git: GitClient,
    config: Config,
    document: ModuleStreamDocument,
    requester: Requester,
    srpms: Sequence[str] = (),
) -> tuple[NewComponent, ...]:
    """The components of ``document`` as they are to be recorded.

    :raises Unprocessable: included modules, or components that cannot be
        retrieved (all named) or SRPMs that cannot be used.
    :raises Forbidden: a component repository is not allowed.
    """
    if document.module_components:
        raise Unprocessable(
            "components.modules (included modules) are not supported;"
            " build them as modules of their own"
        )
    if not document.rpm_components:
        return ()  # metadata-only: the scheduler goes straight to the import
    check_component_names(document.rpm_components)
    overrides = srpm_overrides(srpms, document)
    batches = assign_batches(
        {c.key: c.buildorder for c in document.rpm_components},
        {c.key: c.buildafter for c in document.rpm_components},
    )
    from_git = [c for c in document.rpm_components if c.key not in overrides]
    checked = await _check_in_git(git, config, from_git, requester)
    return tuple(
        _component(spec, batches[spec.key], checked.get(spec.key), overrides)
        for spec in document.rpm_components
    )


def _component(
    spec: RpmComponentSpec,
    batch: int,
    checked: tuple[RepoLocation, str, str] | None,
    overrides: Mapping[str, str],
) -> NewComponent:
    common = {
        "name": spec.key,
        "package": spec.name or spec.key,
        "batch": batch,
        "buildorder": spec.buildorder,
        "buildafter": spec.buildafter,
        "buildonly": spec.buildonly,
        "arches": spec.arches or None,
    }
    if checked is None:
        path = overrides[spec.key]
        return NewComponent(
            repository=path, ref=SRPM_REF, scm_commit="", source=path, **common
        )
    location, ref, commit = checked
    return NewComponent(
        repository=location.url,
        ref=ref,
        scm_commit=commit,
        source=scm_source(location.url, commit),
        **common,
    )


async def _check_in_git(
    git: GitClient,
    config: Config,
    specs: Sequence[RpmComponentSpec],
    requester: Requester,
) -> dict[str, tuple[RepoLocation, str, str]]:
    """Each component's location, ref and commit, checked concurrently."""
    locations = [_location(config, c) for c in specs]
    try:
        results = await gatherResults(
            [
                Deferred.fromCoroutine(
                    _verify_component(git, config, spec, location, requester)
                )
                for spec, location in zip(specs, locations, strict=True)
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
    return {
        spec.key: (location, *result)
        for spec, location, result in zip(specs, locations, results, strict=True)
    }


def _location(config: Config, spec: RpmComponentSpec) -> RepoLocation:
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
    git: GitClient,
    config: Config,
    spec: RpmComponentSpec,
    location: RepoLocation,
    requester: Requester,
) -> tuple[str, str] | str:
    ref = spec.ref or config.scm.rpms_default_ref
    try:
        resolved = await git.resolve_ref(location, ref, requester=requester)
        spec_file = f"{spec.key}.spec"
        if not await git.has_file(
            location, resolved.commit, spec_file, requester=requester
        ):
            return (
                f"{spec.key}: {spec_file} does not exist at {resolved.commit}"
                f" in {location.url}"
            )
    except Unprocessable as e:
        return f"{spec.key}: {e.message}"
    return ref, resolved.commit
