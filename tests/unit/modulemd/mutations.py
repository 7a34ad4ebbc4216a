"""Mutations of modulemd documents for the differential test against libmodulemd.

A corpus document is read as strings (``CBaseLoader``), changed by one
named mutation, and written back as YAML; some mutations then edit the
text itself (tabs, duplicate keys, a second document). Each mutation takes
``(rng, tree)`` and returns the new text, or None when it does not apply.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable
from typing import Any

import yaml

from tests.unit.modulemd.mutation_tools import (
    EMPTY,
    Tree,
    data_of,
    dump,
    load,
    pick,
    rpms_of,
    slots,
)
from tests.unit.modulemd.mutations_rules import (
    artifacts_rpms_empty,
    bad_buildorder,
    bad_date,
    bad_integer,
    bad_nevra,
    bad_stream_name,
    buildafter_target,
    buildafter_with_buildorder,
    component_arches,
    document_type,
    empty_buildafter,
    huge_integer,
    leading_whitespace,
    leading_zeros,
    license_module_empty,
    mixed_stream_signs,
    negative_integer,
    packager_refused_key,
    static_context,
    switch_mdversion,
    wrong_mdversion,
    xmd_anything,
)

Mutation = Callable[[random.Random, Tree], "str | None"]


def delete_required(rng: random.Random, tree: Tree) -> str | None:
    """Delete summary, description, license, license.module, data or a root key."""
    data = data_of(tree)
    options: list[tuple[Any, str]] = [
        (tree, "document"),
        (tree, "version"),
        (tree, "data"),
    ]
    if data is not None:
        options += [
            (data, key) for key in ("summary", "description", "license") if key in data
        ]
        if isinstance(data.get("license"), dict):
            options.append((data["license"], "module"))
    container, key = rng.choice(options)
    container.pop(key, None)
    return dump(tree)


def delete_any_key(rng: random.Random, tree: Tree) -> str | None:
    """Delete one key anywhere in the document."""
    slot = pick(rng, tree, lambda v: True)
    if slot is None or not isinstance(slot[0], dict):
        return None
    del slot[0][slot[1]]
    return dump(tree)


def empty_scalar(rng: random.Random, tree: Tree) -> str | None:
    """Write a random scalar as nothing (``key:``)."""
    slot = pick(rng, tree, lambda v: isinstance(v, str))
    if slot is None:
        return None
    slot[0][slot[1]] = EMPTY
    return dump(tree)


def scalar_to_list(rng: random.Random, tree: Tree) -> str | None:
    """Wrap a random scalar in a one-element list."""
    slot = pick(rng, tree, lambda v: isinstance(v, str))
    if slot is None:
        return None
    slot[0][slot[1]] = [slot[2]]
    return dump(tree)


def list_to_scalar(rng: random.Random, tree: Tree) -> str | None:
    """Replace a random list by its first item (or by nothing when empty)."""
    slot = pick(rng, tree, lambda v: isinstance(v, list))
    if slot is None:
        return None
    slot[0][slot[1]] = slot[2][0] if slot[2] else EMPTY
    return dump(tree)


def scalar_to_mapping(rng: random.Random, tree: Tree) -> str | None:
    """Replace a random scalar by a one-entry mapping."""
    slot = pick(rng, tree, lambda v: isinstance(v, str))
    if slot is None:
        return None
    slot[0][slot[1]] = {"x": slot[2]}
    return dump(tree)


def mapping_to_scalar(rng: random.Random, tree: Tree) -> str | None:
    """Replace a random mapping (below the root) by a scalar."""
    slot = pick(rng, tree, lambda v: isinstance(v, dict))
    if slot is None:
        return None
    slot[0][slot[1]] = "foobar"
    return dump(tree)


def unknown_key(rng: random.Random, tree: Tree) -> str | None:
    """Add an unknown key to a random mapping (the root included)."""
    mappings = [tree] + [v for _, _, v in slots(tree) if isinstance(v, dict)]
    rng.choice(mappings)["unknown_key"] = "surprise"
    return dump(tree)


def unknown_root_key(rng: random.Random, tree: Tree) -> str | None:
    """Add an unknown root key before or after ``data``."""
    if rng.random() < 0.5:
        tree["unknown_key"] = "after data"
        return dump(tree)
    return dump({"unknown_key": "before data", **tree})


def wrong_type_bool(rng: random.Random, tree: Tree) -> str | None:
    """Write a boolean field as a YAML 1.1 boolean libmodulemd refuses."""
    rpms = rpms_of(tree)
    literal = rng.choice(["True", "yes", "on", "1", "TRUE", "false"])
    if rpms and rng.random() < 0.5:
        rng.choice(list(rpms.values()))[rng.choice(["buildonly", "buildroot"])] = (
            literal
        )
    elif (data := data_of(tree)) is not None:
        data["static_context"] = literal
    return dump(tree)


_LINE_VALUE = re.compile(r"^( *)([A-Za-z_][\w.-]*): ([^\s|>'\"&*!{\[].*)$", re.M)


def duplicate_key(rng: random.Random, tree: Tree) -> str | None:
    """Repeat a ``key: value`` line right after itself."""
    text = dump(tree)
    matches = list(_LINE_VALUE.finditer(text))
    if not matches:
        return None
    match = rng.choice(matches)
    return text[: match.end()] + "\n" + match.group(0) + text[match.end() :]


def tab_whitespace(rng: random.Random, tree: Tree) -> str | None:
    """Use tabs as inline whitespace: after colons, and inside plain values."""
    text = dump(tree)
    matches = list(_LINE_VALUE.finditer(text))
    if not matches:
        return None
    chosen = set(rng.sample(range(len(matches)), min(len(matches), 5)))
    pieces, last = [], 0
    for index, match in enumerate(matches):
        if index not in chosen:
            continue
        indent, key, value = match.groups()
        value = value.replace(" ", "\t", 1) if rng.random() < 0.5 else value
        pieces += [text[last : match.start()], f"{indent}{key}:\t{value}"]
        last = match.end()
    return "".join(pieces) + text[last:]


def second_document(rng: random.Random, tree: Tree) -> str | None:
    """Follow the document with a second one (itself, or a bare one)."""
    text = dump(tree)
    return text + "---\n" + rng.choice([text, "document: modulemd-defaults\n", ""])


MUTATIONS: dict[str, Mutation] = {
    function.__name__: function
    for function in (
        delete_required,
        delete_any_key,
        empty_scalar,
        scalar_to_list,
        list_to_scalar,
        scalar_to_mapping,
        mapping_to_scalar,
        unknown_key,
        unknown_root_key,
        wrong_type_bool,
        leading_zeros,
        leading_whitespace,
        huge_integer,
        negative_integer,
        bad_integer,
        bad_buildorder,
        buildafter_with_buildorder,
        buildafter_target,
        empty_buildafter,
        artifacts_rpms_empty,
        bad_nevra,
        license_module_empty,
        wrong_mdversion,
        switch_mdversion,
        document_type,
        bad_stream_name,
        static_context,
        mixed_stream_signs,
        component_arches,
        bad_date,
        xmd_anything,
        duplicate_key,
        tab_whitespace,
        second_document,
        packager_refused_key,
    )
}


def mutate(rng: random.Random, text: str, kind: str) -> str | None:
    """Apply mutation ``kind`` to a copy of the document ``text``."""
    try:
        tree = load(text)
    except yaml.YAMLError:
        return None  # a corpus document that is not YAML at all
    if not isinstance(tree, dict):
        return None
    return MUTATIONS[kind](rng, copy.deepcopy(tree))
