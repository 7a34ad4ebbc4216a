"""Pure rules of component reuse: which previous build qualifies, and which
components of a new build take its NVRs under each rebuild strategy."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ridad.domain.builds import ComponentBuild, ModuleBuild
from ridad.domain.rebuild import ALL, CHANGED_AND_AFTER, ONLY_CHANGED, strategies_view
from ridad.domain.reuse import (
    ReuseSource,
    base_compatible,
    choose_source,
    qualifies,
    reusable,
    reusable_macros,
)
from ridad.domain.states import ComponentState, ModuleState
from tests.unit.domain.test_scheduling import component, module

PLATFORM = {"platform": {"stream": "f40", "base_module": True, "module_build_id": 7}}


def new_build(**changes: object) -> ModuleBuild:
    values: dict[str, object] = {"state": ModuleState.WAIT, "buildrequires": PLATFORM}
    return module(id=20, **{**values, **changes})


def old_build(build_id: int = 10, **changes: object) -> ModuleBuild:
    values: dict[str, object] = {"state": ModuleState.READY, "buildrequires": PLATFORM}
    return module(id=build_id, **{**values, **changes})


def layout(module_build_id: int, first_id: int) -> list[ComponentBuild]:
    """Macros, then a and b in batch 2, c and d in batch 3, e and f in 4."""
    names = [("a", 2), ("b", 2), ("c", 3), ("d", 3), ("e", 4), ("f", 4)]
    made = [
        component(first_id, "module-build-macros", 1, scm_commit="", buildonly=True)
    ]
    for offset, (name, batch) in enumerate(names, start=1):
        made.append(component(first_id + offset, name, batch, scm_commit=name * 40))
    return [replace(c, module_build_id=module_build_id) for c in made]


def done(components: list[ComponentBuild]) -> list[ComponentBuild]:
    return [
        replace(c, state=ComponentState.COMPLETE, nvr=f"{c.name}-1-1", task_id=c.id)
        for c in components
    ]


def changed(components: list[ComponentBuild], name: str) -> list[ComponentBuild]:
    return [
        replace(c, scm_commit="9" * 40) if c.name == name else c for c in components
    ]


def source(**changes: object) -> ReuseSource:
    return ReuseSource(old_build(**changes), tuple(done(layout(10, 100))))


def reused_names(
    build: ModuleBuild, components: list[ComponentBuild], src: ReuseSource | None
) -> set[str]:
    found = reusable(build, components, src)
    by_id = {c.id: c for c in components}
    for component_id, previous in found.items():
        assert previous.name == by_id[component_id].name
    return {by_id[i].name for i in found}


def test_changed_and_after_reuses_what_comes_before_the_change() -> None:
    build = new_build(rebuild_strategy=CHANGED_AND_AFTER)
    components = changed(layout(20, 200), "c")
    assert reused_names(build, components, source()) == {"a", "b", "d"}


def test_only_changed_reuses_every_unchanged_component() -> None:
    build = new_build(rebuild_strategy=ONLY_CHANGED)
    components = changed(layout(20, 200), "c")
    assert reused_names(build, components, source()) == {"a", "b", "d", "e", "f"}


def test_all_reuses_nothing() -> None:
    build = new_build(rebuild_strategy=ALL)
    assert reusable(build, layout(20, 200), source()) == {}
    assert reusable_macros(build, layout(20, 200), source()) is None


def test_nothing_changed_reuses_everything_with_the_macros() -> None:
    build = new_build()
    components = layout(20, 200)
    assert reused_names(build, components, source()) == {
        "module-build-macros",
        "a",
        "b",
        "c",
        "d",
        "e",
        "f",
    }
    macros = reusable_macros(build, components[1:], source())
    assert macros is not None and macros.id == 100


def test_macros_are_not_reused_when_a_component_changed() -> None:
    components = changed(layout(20, 200), "f")
    assert reusable_macros(new_build(), components, source()) is None
    assert "module-build-macros" not in reused_names(new_build(), components, source())


def test_changed_macros_block_changed_and_after_but_not_only_changed() -> None:
    src = source(rpm_macros="%foo 1")
    components = layout(20, 200)
    assert reused_names(new_build(rpm_macros="%foo 2"), components, src) == set()
    only = new_build(rpm_macros="%foo 2", rebuild_strategy=ONLY_CHANGED)
    assert reused_names(only, components, src) == {"a", "b", "c", "d", "e", "f"}
    assert reusable_macros(only, components, src) is None


def test_changed_arches_are_built_again() -> None:
    components = [
        replace(c, arches=("x86_64",)) if c.name == "e" else c for c in layout(20, 200)
    ]
    build = new_build(rebuild_strategy=ONLY_CHANGED)
    assert "e" not in reused_names(build, components, source())
    # Under changed-and-after a later batch's arches block nothing earlier.
    assert reused_names(new_build(), components, source()) == {"a", "b", "c", "d", "f"}


def test_changed_and_after_needs_the_same_batch() -> None:
    components = [replace(c, batch=5) if c.name == "f" else c for c in layout(20, 200)]
    assert "f" not in reused_names(new_build(), components, source())
    only = new_build(rebuild_strategy=ONLY_CHANGED)
    assert "f" in reused_names(only, components, source())


def test_a_removed_earlier_component_blocks_later_batches() -> None:
    components = [c for c in layout(20, 200) if c.name != "b"]
    assert reused_names(new_build(), components, source()) == {"a"}


def test_a_new_component_or_an_incomplete_old_one_is_built() -> None:
    src = source()
    failed = ReuseSource(
        src.build,
        tuple(
            replace(c, state=ComponentState.FAILED, nvr=None) if c.name == "a" else c
            for c in src.components
        ),
    )
    components = layout(20, 200) + [component(299, "g", 4)]
    build = new_build(rebuild_strategy=ONLY_CHANGED)
    assert reused_names(build, components, failed) == {"b", "c", "d", "e", "f"}


def test_no_source_reuses_nothing() -> None:
    assert reusable(new_build(), layout(20, 200), None) == {}


def test_candidates_qualify_by_state_scratch_import_and_strategy() -> None:
    build = new_build()
    assert qualifies(build, old_build())
    assert not qualifies(build, old_build(state=ModuleState.FAILED))
    assert not qualifies(build, old_build(scratch=True))
    assert not qualifies(build, old_build(imported=True))
    assert not qualifies(build, old_build(name="other"))
    assert not qualifies(build, old_build(rebuild_strategy=ONLY_CHANGED))
    assert qualifies(build, old_build(rebuild_strategy=ALL))
    only = new_build(rebuild_strategy=ONLY_CHANGED)
    assert qualifies(only, old_build(rebuild_strategy=ONLY_CHANGED))


def test_the_newest_of_the_same_build_context_is_chosen() -> None:
    build = new_build()
    candidates = [
        old_build(12, build_context="other"),
        old_build(11, rebuild_strategy=ONLY_CHANGED),
        old_build(10),
        old_build(9),
    ]
    chosen = choose_source(build, candidates, {})
    assert chosen is not None and chosen.id == 10
    assert choose_source(new_build(rebuild_strategy=ALL), candidates, {}) is None


def base(build_id: int, stream: str, version: float, virtual: tuple[str, ...]):
    return module(
        id=build_id,
        name="platform",
        stream=stream,
        state=ModuleState.READY,
        stream_version=version,
        virtual_streams=virtual,
    )


def on_base(build: ModuleBuild, stream: str, base_id: int) -> ModuleBuild:
    requires = {
        "platform": {"stream": stream, "base_module": True, "module_build_id": base_id}
    }
    return replace(build, buildrequires=requires)


def test_a_compatible_base_module_is_the_fallback() -> None:
    bases = {
        7: base(7, "el8.2.0", 80200.0, ("el8",)),
        6: base(6, "el8.1.0", 80100.0, ("el8",)),
        5: base(5, "el9.0.0", 90000.0, ("el9",)),
        4: base(4, "el8.3.0", 80300.0, ("el8",)),
    }
    build = on_base(new_build(build_context_no_bms="nobms"), "el8.2.0", 7)
    older = on_base(
        old_build(10, build_context="x", build_context_no_bms="nobms"), "el8.1.0", 6
    )
    other = on_base(
        old_build(11, build_context="y", build_context_no_bms="nobms"), "el9.0.0", 5
    )
    newer = on_base(
        old_build(12, build_context="z", build_context_no_bms="nobms"), "el8.3.0", 4
    )
    assert base_compatible(build, older, bases)
    assert not base_compatible(build, other, bases)
    assert not base_compatible(build, newer, bases)
    chosen = choose_source(build, [newer, other, older], bases)
    assert chosen is not None and chosen.id == 10
    exact = on_base(old_build(9, build_context_no_bms="nobms"), "el8.2.0", 7)
    chosen = choose_source(build, [newer, other, older, exact], bases)
    assert chosen is not None and chosen.id == 9


@pytest.mark.parametrize(
    ("default", "allowed", "expected"),
    [
        (CHANGED_AND_AFTER, (), {CHANGED_AND_AFTER}),
        (ALL, (ONLY_CHANGED,), {ALL, ONLY_CHANGED}),
    ],
)
def test_strategies_view_is_sorted_with_default_allowed(
    default: str, allowed: tuple[str, ...], expected: set[str]
) -> None:
    items = strategies_view(default, allowed)["items"]
    assert isinstance(items, list)
    assert [i["name"] for i in items] == [ALL, CHANGED_AND_AFTER, ONLY_CHANGED]
    assert {i["name"] for i in items if i["allowed"]} == expected
    assert [i["name"] for i in items if i["default"]] == [default]
    assert items[0]["description"] == "All components will be rebuilt"


def test_a_component_built_from_an_uploaded_srpm_is_built() -> None:
    srpm = "cli-build/1/d-1.0-1.src.rpm"
    components = [
        replace(c, source=srpm) if c.name == "d" else c for c in layout(20, 200)
    ]
    build = new_build(rebuild_strategy=ONLY_CHANGED, srpms=(srpm,))
    assert reused_names(build, components, source()) == {"a", "b", "c", "e", "f"}
