"""Reading, writing and searching modulemd trees for the mutations.

A document is read as strings only (``CBaseLoader``), as libmodulemd sees
its scalars, and written back with libyaml's dumper; ``EMPTY`` is written
as a plain empty scalar (``key:``).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import yaml

Tree = dict[str, Any]


class Empty:
    """A value written as nothing at all: ``key:``."""


EMPTY = Empty()


class _Dumper(yaml.CSafeDumper):
    """libyaml's safe dumper, writing Empty as a plain empty scalar."""


_Dumper.add_representer(
    Empty, lambda dumper, _: dumper.represent_scalar("tag:yaml.org,2002:null", "")
)


def dump(tree: Any) -> str:
    """Write a tree as block-style YAML, keys in their order."""
    return yaml.dump(
        tree,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=10**6,
    )


def load(text: str) -> Tree:
    """Read a document as strings only, as libmodulemd sees its scalars."""
    tree: Tree = yaml.load(text, Loader=yaml.CBaseLoader)
    return tree


def slots(tree: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, Any, Any]]:
    """Every (container, key, value) in the tree, depth first."""
    items = tree.items() if isinstance(tree, dict) else enumerate(tree)
    for key, value in list(items):
        yield tree, key, value
        if isinstance(value, dict | list):
            yield from slots(value, (*path, key))


def pick(rng: random.Random, tree: Tree, want: Callable[[Any], bool]) -> Any:
    """A random (container, key, value) whose value satisfies ``want``."""
    choices = [slot for slot in slots(tree) if want(slot[2])]
    return rng.choice(choices) if choices else None


def data_of(tree: Tree) -> dict[str, Any] | None:
    """The data section, when it is a mapping."""
    data = tree.get("data") if isinstance(tree, dict) else None
    return data if isinstance(data, dict) else None


def rpms_of(tree: Tree) -> dict[str, Any] | None:
    """``data.components.rpms`` when it is a non-empty mapping of mappings."""
    components = (data_of(tree) or {}).get("components")
    rpms = components.get("rpms") if isinstance(components, dict) else None
    if (
        isinstance(rpms, dict)
        and rpms
        and all(isinstance(v, dict) for v in rpms.values())
    ):
        return rpms
    return None


def is_scalar(value: Any) -> bool:
    """Whether a tree value is a scalar."""
    return isinstance(value, str | Empty)


INTEGER_KEYS = ("version", "buildorder", "epoch")


def set_integer(rng: random.Random, tree: Tree, values: list[str]) -> str | None:
    """Set a random integer field (or data.version) to one of ``values``."""
    choices = [
        (container, key)
        for container, key, value in slots(tree)
        if key in INTEGER_KEYS and is_scalar(value) and container is not tree
    ]
    data = data_of(tree)
    if not choices and data is not None:
        choices = [(data, "version")]
    if not choices:
        return None
    container, key = rng.choice(choices)
    container[key] = rng.choice(values)
    return dump(tree)
