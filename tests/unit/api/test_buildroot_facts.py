"""The arches a submission reads from Koji: each sibling's base module tag
narrows ``koji.arches`` and ``buildopts.arches``; none left is 422 naming
the base module; Koji out of reach accepts (the wait step reads again)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_twisted

from ridad.api.buildroot_facts import sibling_arches
from ridad.config.model import KojiConfig
from ridad.errors import KojiFault, KojiUnavailable, Unprocessable

KOJI = KojiConfig(hub="http://kojihub.test/kojihub", arches=("x86_64", "aarch64"))


@dataclass(frozen=True)
class Base:
    name: str
    stream: str


@dataclass(frozen=True)
class Sibling:
    """What ``sibling_arches`` reads of an Expansion."""

    stream: str
    buildrequires: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.buildrequires["platform"] = {
            "stream": self.stream,
            "koji_tag": f"{self.stream}-build",
            "base_module": True,
        }
        self.buildrequires["python"] = {"stream": "3", "koji_tag": "py"}

    @property
    def base_module(self) -> Base:
        return Base("platform", self.stream)


class Reader:
    """Koji's answers by tag, and what was asked."""

    def __init__(self, arches: dict[str, tuple[str, ...] | None]) -> None:
        self.arches = arches
        self.asked: list[list[str]] = []

    async def __call__(self, tags: Sequence[str]) -> list[tuple[str, ...] | None]:
        self.asked.append(list(tags))
        return [self.arches[t] for t in tags]


@pytest_twisted.ensureDeferred
async def test_each_sibling_is_narrowed_to_its_base_tag_in_one_read() -> None:
    reader = Reader({"el8-build": ("aarch64", "s390x"), "f40-build": None})
    arches = await sibling_arches(
        (), [Sibling("f40"), Sibling("el8"), Sibling("f40")], KOJI, reader
    )
    assert arches == [("x86_64", "aarch64"), ("aarch64",), ("x86_64", "aarch64")]
    assert reader.asked == [["el8-build", "f40-build"]]


@pytest_twisted.ensureDeferred
async def test_buildopts_arches_narrow_in_koji_arches_order() -> None:
    reader = Reader({"f40-build": ("x86_64", "aarch64", "ppc64le")})
    arches = await sibling_arches(
        ("ppc64le", "aarch64", "x86_64"), [Sibling("f40")], KOJI, reader
    )
    assert arches == [("x86_64", "aarch64")]


@pytest_twisted.ensureDeferred
async def test_no_arch_left_refuses_naming_the_base_module() -> None:
    reader = Reader({"el8-build": ("s390x",), "f40-build": ("x86_64",)})
    with pytest.raises(Unprocessable) as refused:
        await sibling_arches((), [Sibling("f40"), Sibling("el8")], KOJI, reader)
    message = str(refused.value)
    assert message.startswith("the build on platform:el8: no arch left")
    assert "['s390x']" in message


@pytest.mark.parametrize(
    "error",
    [
        KojiUnavailable("down"),
        KojiFault("no such tag", fault_code=1000, fault_name="GenericError"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_koji_not_telling_accepts_with_the_configured_arches(
    error: Exception,
) -> None:
    async def failing(tags: Sequence[str]) -> list[tuple[str, ...] | None]:
        raise error

    arches = await sibling_arches(("aarch64",), [Sibling("f40")], KOJI, failing)
    assert arches == [("aarch64",)]


@pytest_twisted.ensureDeferred
async def test_without_koji_nothing_is_read() -> None:
    reader = Reader({})
    assert await sibling_arches((), [Sibling("f40")], None, reader) == [None]
    assert await sibling_arches((), [Sibling("f40")], KOJI, None) == [KOJI.arches]
    assert reader.asked == []
