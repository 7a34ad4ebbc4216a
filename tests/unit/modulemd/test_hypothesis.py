"""Property tests: load_modulemd only ever raises Unprocessable, and round-trips."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ridad.domain.modulemd import (
    Dependencies,
    ModuleStreamDocument,
    RpmComponentSpec,
)
from ridad.errors import Unprocessable
from ridad.modulemd.parse import load_modulemd

_YAMLISH_TOKENS = [
    "document: modulemd\n",
    "document: modulemd-packager\n",
    "version: 2\n",
    "version: 1\n",
    "data:\n",
    "  summary: s\n",
    "  description: d\n",
    "  license: {module: [MIT]}\n",
    "  components:\n",
    "    rpms:\n",
    "      a: {buildorder: 1}\n",
    "      b: {buildafter: [a]}\n",
    "  dependencies:\n",
    "  - buildrequires: {platform: [-f1]}\n",
    "  servicelevels: {x: {eol: 2020-13-45}}\n",
    "  ",
    "- ",
    ": ",
    "&a ",
    "*a",
    "!!python/object:os.system ",
    "!!binary ",
    "{",
    "}",
    "[",
    "]",
    "'",
    '"',
    "\n",
    "---\n",
    "...\n",
    "#",
    "? ",
    "|\n",
    ">-\n",
    "\t",
    "1.10",
    "true",
    "-9999999999999999999999",
    "\ufeff",
    "%YAML 1.1\n",
]

_SAFE_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufeff"
    ),
    max_size=20,
)
_NAME = st.from_regex(r"[a-z0-9][a-z0-9_.+-]{0,11}", fullmatch=True)
_ARCHES = st.lists(st.sampled_from(["x86_64", "aarch64", "i686", "s390x"]), unique=True)
_LEAVES = st.one_of(
    _SAFE_TEXT, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False)
)
_TREES = st.recursive(
    _LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(_NAME, st.sampled_from(["data", "summary", "rpms"])),
            children,
            max_size=4,
        ),
    ),
    max_leaves=20,
)


def _outcome(text: str | bytes) -> None:
    """Load ``text``; only a document or Unprocessable may come out."""
    try:
        result = load_modulemd(text)
    except Unprocessable as error:
        assert error.message
        assert error.details["errors"]
        return
    assert isinstance(result, ModuleStreamDocument)


@given(st.text())
def test_random_text_raises_only_unprocessable(text: str) -> None:
    """Arbitrary text yields a document or Unprocessable, nothing else."""
    _outcome(text)


@given(st.binary())
def test_random_bytes_raise_only_unprocessable(data: bytes) -> None:
    """Arbitrary bytes yield a document or Unprocessable, nothing else."""
    _outcome(data)


@given(st.lists(st.sampled_from(_YAMLISH_TOKENS), max_size=40).map("".join))
def test_yamlish_token_soup_raises_only_unprocessable(text: str) -> None:
    """Near-YAML built from modulemd fragments yields only Unprocessable or a document."""
    _outcome(text)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    _TREES,
    st.sampled_from([("modulemd", 1), ("modulemd", 2), ("modulemd-packager", 2)]),
)
def test_random_data_sections_raise_only_unprocessable(
    data: Any, envelope: tuple[str, int]
) -> None:
    """Random structures under a supported envelope yield only Unprocessable or a document."""
    document, version = envelope
    _outcome(yaml.safe_dump({"document": document, "version": version, "data": data}))


@st.composite
def _valid_streams(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a valid modulemd v2 stream as a plain dict."""
    arches = draw(_ARCHES)
    rpms = {}
    for key in draw(st.lists(_NAME, unique=True, max_size=5)):
        rpms[key] = {
            "rationale": draw(_SAFE_TEXT),
            "ref": draw(_SAFE_TEXT),
            "buildorder": draw(st.integers(-(2**63), 2**63 - 1)),
            "arches": draw(st.lists(st.sampled_from(arches), unique=True))
            if arches
            else [],
        }
    deps = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "buildrequires": st.dictionaries(
                        _NAME, st.lists(_NAME, unique=True), max_size=3
                    )
                }
            ),
            max_size=3,
        )
    )
    data = {
        "name": draw(_SAFE_TEXT),
        "stream": draw(
            st.one_of(_SAFE_TEXT, st.sampled_from(["1.10", "8", "0x1F", "true", "~"]))
        ),
        "version": draw(st.integers(0, 2**64 - 1)),
        "summary": draw(_SAFE_TEXT),
        "description": draw(_SAFE_TEXT),
        "license": {"module": draw(st.lists(_NAME, unique=True, min_size=1))},
        "dependencies": deps,
        "buildopts": {"arches": arches},
        "components": {"rpms": rpms},
    }
    return {"document": "modulemd", "version": 2, "data": data}


@given(_valid_streams())
def test_generated_valid_streams_round_trip(source: dict[str, Any]) -> None:
    """A valid stream dumped with safe_dump loads back with the same fields."""
    data = source["data"]
    document = load_modulemd(
        yaml.safe_dump(source, allow_unicode=True, sort_keys=False)
    )
    assert (document.name, document.stream) == (data["name"], data["stream"])
    assert (document.summary, document.description) == (
        data["summary"],
        data["description"],
    )
    assert document.version == (data["version"] or None)
    assert document.module_licenses == tuple(data["license"]["module"])
    assert document.arches == tuple(data["buildopts"]["arches"])
    assert document.dependencies == tuple(
        Dependencies(
            buildrequires={m: tuple(s) for m, s in item["buildrequires"].items()}
        )
        for item in data["dependencies"]
    )
    assert document.rpm_components == tuple(
        RpmComponentSpec(
            key=key,
            rationale=spec["rationale"],
            ref=spec["ref"],
            buildorder=spec["buildorder"],
            arches=tuple(spec["arches"]),
        )
        for key, spec in data["components"]["rpms"].items()
    )


@st.composite
def _mutated_streams(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a valid stream with one randomly chosen subtree replaced by junk."""
    source = draw(_valid_streams())
    node: Any = source
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = draw(st.sampled_from(keys))
        child = node[key]
        if not isinstance(child, (dict, list)) or draw(st.booleans()):
            node[key] = draw(_TREES)
            break
        node = child
    return source


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_streams())
def test_mutated_valid_streams_raise_only_unprocessable(source: dict[str, Any]) -> None:
    """A valid stream with a random subtree swapped for junk yields only Unprocessable or a document."""
    _outcome(yaml.safe_dump(source, allow_unicode=True, sort_keys=False))
