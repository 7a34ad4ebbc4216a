"""Pure scheduling rules: Koji names, sources, readiness, repos, outcome."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ridad.domain.builds import ComponentBuild, ModuleBuild
from ridad.domain.scheduling import (
    build_tag_name,
    koji_tag_name,
    metadata_only,
    outcome,
    repo_needed_event,
    scm_source,
    submittable,
)
from ridad.domain.states import ComponentState, ModuleState

NOW = datetime(2026, 11, 27, tzinfo=UTC)


def module(**changes: object) -> ModuleBuild:
    base = ModuleBuild(
        id=1,
        name="demo",
        stream="main",
        version=1,
        context="c0ffee00",
        state=ModuleState.BUILD,
        state_reason=None,
        owner="o",
        scmurl="u",
        scm_commit="0" * 40,
        branch=None,
        modulemd="",
        build_context="b",
        runtime_context="r",
        buildrequires={},
        requires={},
        koji_tag=None,
        scratch=False,
        time_submitted=NOW,
        time_modified=NOW,
        time_completed=None,
    )
    return replace(base, **changes)


def component(cid: int, name: str, batch: int, **changes: object) -> ComponentBuild:
    base = ComponentBuild(
        id=cid,
        module_build_id=1,
        name=name,
        type="rpms",
        package=name,
        repository="git://h/rpms/" + name,
        ref="main",
        scm_commit="1" * 40,
        batch=batch,
        buildorder=0,
        buildafter=(),
        buildonly=False,
        state=ComponentState.WAITING,
        state_reason=None,
        task_id=None,
        task_state=None,
        nvr=None,
        time_modified=NOW,
    )
    return replace(base, **changes)


def built(c: ComponentBuild, event: int) -> ComponentBuild:
    return replace(c, state=ComponentState.COMPLETE, tagged=True, tag_event=event)


def test_koji_tag_name_uses_mbs_form_and_hash_when_long() -> None:
    """Tags are module-n-s-v-c, or MBS's hash form when too long for -build."""
    assert (
        koji_tag_name("demo", "main", 42, "c0ffee00") == "module-demo-main-42-c0ffee00"
    )
    long_name = "x" * 250
    digest = hashlib.sha1(f"{long_name}.main.42.c0ffee00".encode()).hexdigest()
    assert koji_tag_name(long_name, "main", 42, "c0ffee00") == f"module-{digest[:16]}"
    assert build_tag_name("module-a") == "module-a-build"


@pytest.mark.parametrize(
    "repository, expected",
    [
        ("git://h/rpms/a.git", "git://h/rpms/a.git?#abc"),
        ("https://h/rpms/a.git", "git+https://h/rpms/a.git?#abc"),
        ("file:///srv/rpms/a.git", "git+file:///srv/rpms/a.git?#abc"),
    ],
)
def test_scm_source_in_koji_form(repository: str, expected: str) -> None:
    """Component sources take the forms Koji builders accept."""
    assert scm_source(repository, "abc") == expected


def test_scm_source_refuses_other_schemes() -> None:
    """A scheme Koji cannot build from is refused."""
    with pytest.raises(ValueError):
        scm_source("ssh://h/a.git", "abc")


def test_macros_come_first_then_batches_in_order() -> None:
    """Only macros is submittable first; batch 2 waits for its repo."""
    macros = component(1, "module-build-macros", 1)
    a, b = component(2, "a", 2), component(3, "b", 3)
    assert submittable(module(), [macros, a, b]) == [macros]
    done = built(macros, 10)
    assert submittable(module(), [done, a, b]) == []
    assert repo_needed_event(module(), [done, a, b]) == 10
    assert submittable(module(repo_event=10), [done, a, b]) == [a]
    assert repo_needed_event(module(repo_event=10), [done, a, b]) is None


def test_no_repo_after_the_last_batch() -> None:
    """Once everything is built, no new repo is requested."""
    comps = [
        built(component(1, "module-build-macros", 1), 5),
        built(component(2, "a", 2), 9),
    ]
    assert repo_needed_event(module(repo_event=5), comps) is None


def test_buildafter_builds_each_component_when_its_needs_are_in() -> None:
    """With buildafter a component waits only for what it names."""
    macros = built(component(1, "module-build-macros", 1), 5)
    a = component(2, "a", 2)
    b = component(3, "b", 3, buildafter=("a",))
    c = component(4, "c", 2)
    assert submittable(module(repo_event=5), [macros, a, b, c]) == [a, c]
    a_done = built(a, 8)
    assert submittable(module(repo_event=5), [macros, a_done, b, c]) == [c]
    assert submittable(module(repo_event=8), [macros, a_done, b, c]) == [c, b]


def test_submitted_components_are_not_submitted_again() -> None:
    """A component with a recorded intent is not submittable."""
    macros = component(1, "module-build-macros", 1, submitted_at=NOW)
    assert submittable(module(), [macros]) == []


def test_outcome_names_failed_component_and_task() -> None:
    """A failed component fails the module with its name and task id."""
    comps = [
        built(component(1, "module-build-macros", 1), 1),
        component(
            2, "a", 2, state=ComponentState.FAILED, task_id=77, state_reason="boom"
        ),
    ]
    result = outcome(comps)
    assert result.finished
    assert result.failed_reason == "Component a failed in Koji task 77: boom"


def test_outcome_keeps_only_the_first_line_of_a_component_reason() -> None:
    """The log tail under a component's reason stays with the component."""
    reason = "boom\n--- last 2 lines of build.log (Koji task 78) ---\nx\ny"
    comps = [component(2, "a", 2, state=ComponentState.FAILED, task_id=77)]
    comps = [replace(comps[0], state_reason=reason)]
    assert outcome(comps).failed_reason == "Component a failed in Koji task 77: boom"


def test_outcome_done_when_all_complete_and_tagged() -> None:
    """Every component complete and tagged means done."""
    comps = [built(component(1, "m", 1), 1), built(component(2, "a", 2), 2)]
    assert outcome(comps).finished and outcome(comps).failed_reason is None
    untagged = [comps[0], replace(comps[1], tagged=False)]
    assert not outcome(untagged).finished


def test_a_build_without_components_is_metadata_only_and_finished_at_once() -> None:
    """No components at all (not even module-build-macros): nothing to build,
    nothing to submit, no repo; the module goes straight to its import."""
    assert metadata_only([])
    assert outcome([]).finished and outcome([]).failed_reason is None
    assert submittable(module(), []) == []
    assert repo_needed_event(module(), []) is None
    macros = component(1, "module-build-macros", 1)
    assert not metadata_only([macros])
    assert not outcome([macros]).finished
