"""Mutations aimed at libmodulemd's rules: integers, component ordering and
arches, artifacts, licenses, versions, contexts, dependencies and dates."""

from __future__ import annotations

import random

from tests.unit.modulemd.mutation_tools import (
    EMPTY,
    Tree,
    data_of,
    dump,
    rpms_of,
    set_integer,
)


def leading_zeros(rng: random.Random, tree: Tree) -> str | None:
    """Pad an integer with zeros to 50 digits."""
    return set_integer(rng, tree, ["0" * 48 + "42", "0" * 30 + "7", "0000"])


def leading_whitespace(rng: random.Random, tree: Tree) -> str | None:
    """Write an integer with leading whitespace (quoted), or trailing."""
    return set_integer(rng, tree, [" 5", "\t42", "\n 7", "5 ", " ", " +3"])


def huge_integer(rng: random.Random, tree: Tree) -> str | None:
    """Set an integer past int64/uint64, or at their edges."""
    values = [
        str(2**64),
        str(2**64 - 1),
        str(2**63),
        str(2**63 - 1),
        "9" * 30,
        str(2**32),
    ]
    return set_integer(rng, tree, values)


def negative_integer(rng: random.Random, tree: Tree) -> str | None:
    """Set an integer to a negative number."""
    return set_integer(rng, tree, ["-1", "-5", str(-(2**63)), str(-(2**63) - 1), " -5"])


def bad_integer(rng: random.Random, tree: Tree) -> str | None:
    """Set an integer to something base-10 strtoll does not take whole."""
    return set_integer(rng, tree, ["1.5", "0x10", "1e3", "ten", "1_000", "+-1"])


def bad_buildorder(rng: random.Random, tree: Tree) -> str | None:
    """Give a component a malformed or out-of-range buildorder."""
    rpms = rpms_of(tree)
    if not rpms:
        return None
    value = rng.choice(
        ["abc", "1.5", "9223372036854775808", "-9223372036854775809", "[1]"]
    )
    rng.choice(list(rpms.values()))["buildorder"] = [value] if value == "[1]" else value
    return dump(tree)


def buildafter_with_buildorder(rng: random.Random, tree: Tree) -> str | None:
    """Give one component, or two different ones, buildorder and buildafter."""
    rpms = rpms_of(tree)
    if not rpms or len(rpms) < 2:
        return None
    first, second = rng.sample(list(rpms), 2)
    rpms[first]["buildorder"] = rng.choice(["5", "0", "-2", "4294967296"])
    if rng.random() < 0.5:
        rpms[first]["buildafter"] = [second]  # both in one component
    else:
        rpms[second].pop("buildorder", None)
        rpms[second]["buildafter"] = [first]  # one scheme each
    return dump(tree)


def buildafter_target(rng: random.Random, tree: Tree) -> str | None:
    """Point a buildafter at an existing key, a missing one, or the real name."""
    rpms = rpms_of(tree)
    if not rpms:
        return None
    for body in rpms.values():
        body.pop("buildorder", None)
    key = rng.choice(list(rpms))
    rpms[key]["buildafter"] = [rng.choice([*rpms, "nosuchkey"])]
    return dump(tree)


def empty_buildafter(rng: random.Random, tree: Tree) -> str | None:
    """Write a component's buildafter as nothing, or as []."""
    rpms = rpms_of(tree)
    if not rpms:
        return None
    for body in rpms.values():
        body.pop("buildorder", None)
    rng.choice(list(rpms.values()))["buildafter"] = rng.choice([EMPTY, EMPTY, []])
    return dump(tree)


def artifacts_rpms_empty(rng: random.Random, tree: Tree) -> str | None:
    """Write ``artifacts: {rpms: }`` (or ``[]``)."""
    data = data_of(tree)
    if data is None:
        return None
    data["artifacts"] = {"rpms": rng.choice([EMPTY, EMPTY, []])}
    return dump(tree)


def bad_nevra(rng: random.Random, tree: Tree) -> str | None:
    """Add an artifact without an epoch, or a good one."""
    data = data_of(tree)
    if data is None:
        return None
    nevra = rng.choice(
        ["foo-1.0-1.noarch", "foo-0:1.0-1.noarch", "foo-x:1-1.src", "foo"]
    )
    data["artifacts"] = {"rpms": [nevra]}
    return dump(tree)


def license_module_empty(rng: random.Random, tree: Tree) -> str | None:
    """Write ``license: {module: }`` (or ``[]``)."""
    data = data_of(tree)
    if data is None:
        return None
    data["license"] = {"module": rng.choice([EMPTY, EMPTY, []])}
    return dump(tree)


def wrong_mdversion(rng: random.Random, tree: Tree) -> str | None:
    """Set the metadata version to one no reader takes (or quoted/spaced 2)."""
    tree["version"] = rng.choice(
        ["0", "4", "99", "two", "-1", "1.5", EMPTY, " 2", "0002"]
    )
    return dump(tree)


def switch_mdversion(rng: random.Random, tree: Tree) -> str | None:
    """Read a v2 document as v1, or a v1 document as v2."""
    tree["version"] = "1" if tree.get("version") == "2" else "2"
    return dump(tree)


def document_type(rng: random.Random, tree: Tree) -> str | None:
    """Change the document type."""
    tree["document"] = rng.choice(
        ["modulemd-stream", "modulemd-defaults", "foo", "modulemd-packager", EMPTY]
    )
    return dump(tree)


def bad_stream_name(rng: random.Random, tree: Tree) -> str | None:
    """Give name or stream characters nobody checks in the format."""
    data = data_of(tree)
    if data is None:
        return None
    data[rng.choice(["name", "stream"])] = rng.choice(
        ["foo bar", "x:y", "a/b", "", "é"]
    )
    return dump(tree)


def static_context(rng: random.Random, tree: Tree) -> str | None:
    """Set static_context with a good, too long, bad or empty context."""
    data = data_of(tree)
    if data is None:
        return None
    data["static_context"] = "true"
    data["context"] = rng.choice(["CTX_1", "a" * 14, "a" * 13, "a-b", EMPTY, "ok"])
    return dump(tree)


def mixed_stream_signs(rng: random.Random, tree: Tree) -> str | None:
    """Make a dependency stream list mix included and excluded streams."""
    data = data_of(tree)
    if data is None:
        return None
    side = rng.choice(["buildrequires", "requires"])
    streams = rng.choice([["f28", "-f29"], ["-f28", "-f29"], [], EMPTY, "f28"])
    data["dependencies"] = [{side: {"platform": streams}}]
    return dump(tree)


def component_arches(rng: random.Random, tree: Tree) -> str | None:
    """Give module and component arches that may not fit."""
    rpms = rpms_of(tree)
    data = data_of(tree)
    if not rpms or data is None:
        return None
    buildopts = data.setdefault("buildopts", {})
    if not isinstance(buildopts, dict):
        return None
    buildopts["arches"] = rng.choice([["x86_64"], EMPTY, ["x86_64", "ppc64le"]])
    arches = rng.choice([["ppc64le"], ["x86_64"], EMPTY, []])
    rng.choice(list(rpms.values()))["arches"] = arches
    return dump(tree)


def bad_date(rng: random.Random, tree: Tree) -> str | None:
    """Give a service level an eol that is no YYYY-MM-DD date.

    Never a numeric impossible date such as 2020-13-45: that crashes
    libmodulemd (``docs/modulemd.md``, section 7).
    """
    data = data_of(tree)
    if data is None:
        return None
    eol = rng.choice(["notadate", "2020-1-1", "20200101", EMPTY, "2020-01-01"])
    data["servicelevels"] = {"rawhide": {"eol": eol}}
    return dump(tree)


def xmd_anything(rng: random.Random, tree: Tree) -> str | None:
    """Put free-form data in xmd (libmodulemd takes any YAML there)."""
    data = data_of(tree)
    if data is None:
        return None
    data["xmd"] = rng.choice(
        [{"a": {"b": ["c", "d"]}}, {"mbs": {"mse": "TRUE"}}, EMPTY]
    )
    return dump(tree)


def packager_refused_key(rng: random.Random, tree: Tree) -> str | None:
    """Add a key packager v2 refuses (or a stream v2 key) to the data."""
    data = data_of(tree)
    if data is None:
        return None
    key = rng.choice(["xmd", "buildopts", "arch", "context", "version", "name"])
    data[key] = {"buildopts": {"arches": ["x86_64"]}, "xmd": {"a": "b"}}.get(key, "1")
    return dump(tree)
