"""The body ``rida submit`` POSTs: MBS's fields, as fedpkg sends them.

``scmurl`` and ``branch``, or with ``--file`` the modulemd text itself
(``modulemd``, and ``module_name`` from the file's name as fedpkg makes it);
``scratch``; and when given ``rebuild_strategy``, ``reuse_components_from``,
the Koji upload paths of ``--srpm`` (``srpms``) and the streams of
``--buildrequires``/``--requires`` (``buildrequire_overrides`` and
``require_overrides``: name to streams).

What the server allows (YAML and SRPMs without ``--scratch``) the server
decides; ``warnings`` says beforehand what it will likely refuse.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Sequence
from typing import Any

from ridad.cli.exits import UsageError

_COMMIT = re.compile(r"[0-9a-fA-F]{7,40}")


def branch_of(scmurl: str) -> str:
    """The branch an SCM URL names in its ref (``...?#main``).

    :raises UsageError: the URL has no ref, or its ref is a commit hash.
    """
    ref = scmurl.partition("#")[2]
    if not ref:
        raise UsageError(
            f"{scmurl} names no ref: add ?#BRANCH (or ?#COMMIT and pass --branch)"
        )
    if _COMMIT.fullmatch(ref):
        raise UsageError(
            f"the ref of {scmurl} is a commit hash, not a branch: pass --branch"
            " BRANCH (the module's stream branch)"
        )
    return ref


def module_name_of(path: str) -> str:
    """The module's name fedpkg sends for a modulemd file: its base name
    without the extension (``demo.yaml``: ``demo``)."""
    return os.path.splitext(os.path.basename(path))[0]


def read_modulemd(path: str) -> str:
    """The text of the modulemd file ``path``.

    :raises UsageError: it cannot be read as UTF-8 text.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the modulemd file {path}: {exc}") from None


def check_srpm_files(files: Sequence[str]) -> None:
    """:raises UsageError: an SRPM that is not a readable file (before any upload)."""
    for file in files:
        if not os.path.isfile(file):
            raise UsageError(f"SRPM file {file} not found (--srpm)")


def submission_body(args: argparse.Namespace, srpms: Sequence[str]) -> dict[str, Any]:
    """The JSON body of ``args``' submission; ``srpms`` are Koji upload paths.

    :raises UsageError: neither SCMURL nor --file, --stream without --file,
        a branch that cannot be told, or an unreadable modulemd file.
    """
    body: dict[str, Any] = {}
    if args.scmurl:
        body["scmurl"] = args.scmurl
        body["branch"] = args.branch or branch_of(args.scmurl)
    elif not args.modulemd_file:
        raise UsageError("submit needs an SCMURL, or --file MODULEMD")
    elif args.branch:
        body["branch"] = args.branch
    if args.modulemd_file:
        body["modulemd"] = read_modulemd(args.modulemd_file)
        body["module_name"] = module_name_of(args.modulemd_file)
        if args.stream:
            body["module_stream"] = args.stream
    elif args.stream:
        raise UsageError("--stream goes with --file (the stream is the branch)")
    body["scratch"] = bool(args.scratch)
    if args.rebuild_strategy:
        body["rebuild_strategy"] = args.rebuild_strategy
    if args.reuse_from is not None:
        body["reuse_components_from"] = args.reuse_from
    if srpms:
        body["srpms"] = list(srpms)
    for key, given in (
        ("buildrequire_overrides", args.buildrequires_overrides),
        ("require_overrides", args.requires_overrides),
    ):
        if given:
            overrides: dict[str, list[str]] = {}
            for name, stream in given:
                overrides.setdefault(name, []).append(stream)
            body[key] = overrides
    return body


def warnings(args: argparse.Namespace) -> list[str]:
    """What the server will likely refuse, said before anything is sent."""
    found = []
    if args.modulemd_file and not args.scratch:
        found.append(
            "--file without --scratch: the server builds it only if it allows"
            " YAML submissions (MBS and ridad refuse them by default; ridad:"
            " builds.allow_yaml_submissions)"
        )
    if args.srpms and not args.scratch:
        found.append(
            "--srpm without --scratch: MBS and ridad accept SRPMs for scratch"
            " builds only (add --scratch); uploading them anyway"
        )
    return found
