"""The JSON views of builds (ridad/domain/views.py, mbs_views.py) are valid
against the schemas the OpenAPI description gives them, for a build in Koji
(tasks, NVRs, a trace): the live fuzz test sees only builds that never
reached Koji."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest

from ridad.api.openapi import openapi_document
from ridad.domain.builds import ComponentBuild, ModuleBuild, TraceEntry
from ridad.domain.mbs_views import Detail, mbs_component_build, mbs_module_build
from ridad.domain.states import ComponentState, ModuleState
from ridad.domain.views import module_build_view, module_list_item

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 27, 10, 5, tzinfo=UTC)

BUILD = ModuleBuild(
    id=42,
    name="foo",
    stream="main",
    version=4020261127100000,
    context="6c81f848",
    state=ModuleState.BUILD,
    state_reason=None,
    owner="alice",
    scmurl="git://pkgs.example.org/modules/foo.git?#3f2a1c0",
    scm_commit="3f2a1c0" + "0" * 33,
    branch="main",
    modulemd="document: modulemd\n",
    build_context="b" * 40,
    runtime_context="r" * 40,
    buildrequires={
        "platform": {"stream": "f40", "base_module": True, "koji_tag": "f40-build"},
        "bar": {"stream": "1", "version": "40", "context": "c", "koji_tag": "t"},
    },
    requires={"platform": "f40"},
    koji_tag="module-foo-main-4020261127100000-6c81f848",
    scratch=False,
    time_submitted=T0,
    time_modified=T1,
    time_completed=None,
)


def _component(
    cid: int, name: str, state: ComponentState, **changes: Any
) -> ComponentBuild:
    values: dict[str, Any] = {
        "id": cid,
        "module_build_id": BUILD.id,
        "name": name,
        "type": "rpms",
        "package": name,
        "repository": f"git://pkgs.example.org/rpms/{name}",
        "ref": "main",
        "scm_commit": "9" * 40,
        "batch": 2,
        "buildorder": 0,
        "buildafter": (),
        "buildonly": False,
        "state": state,
        "state_reason": None,
        "task_id": None,
        "task_state": None,
        "nvr": None,
        "time_modified": T1,
    }
    values.update(changes)
    return ComponentBuild(**values)


COMPONENTS = [
    _component(
        7, "bar", ComponentState.COMPLETE, task_id=6378, task_state="CLOSED",
        nvr="bar-1.0-1.module+f40+42+6c81f848",
    ),
    _component(8, "baz", ComponentState.BUILDING, task_id=6379, task_state="OPEN"),
    _component(9, "qux", ComponentState.WAITING, batch=3),
    _component(10, "zap", ComponentState.FAILED, task_id=6380, task_state="FAILED",
               state_reason="Koji task 6380 failed"),
]  # fmt: skip
TRACE = [
    TraceEntry(1, BUILD.id, None, T0, None, "init", "Submitted"),
    TraceEntry(2, BUILD.id, None, T1, "init", "wait", None),
    TraceEntry(3, BUILD.id, 7, T1, "waiting", "building", None),
    TraceEntry(4, BUILD.id, 7, T1, "building", "complete", None),
]


def assert_valid(value: Any, name: str) -> None:
    """``value`` is valid against schema ``name`` of the description."""
    schema = {
        "$ref": f"#/components/schemas/{name}",
        "components": openapi_document()["components"],
    }
    jsonschema.validate(value, schema, cls=jsonschema.Draft202012Validator)


def test_rida_build_view_has_the_described_shape() -> None:
    """``GET /rida/module-builds/N``'s view of a build in Koji is a ModuleBuild."""
    assert_valid(module_build_view(BUILD, COMPONENTS), "ModuleBuild")


def test_rida_view_of_an_imported_build_has_the_described_shape() -> None:
    """A build with its final modulemd and Koji build shows both numbers."""
    imported = dataclasses.replace(
        BUILD,
        state=ModuleState.READY,
        cg_state="imported",
        cg_build_id=7001,
        artifact_count=12,
    )
    view = module_build_view(imported, COMPONENTS)
    assert (view["artifact_count"], view["koji_build_id"]) == (12, 7001)
    assert_valid(view, "ModuleBuild")
    with pytest.raises(jsonschema.ValidationError):
        assert_valid({**view, "koji_build_id": 0}, "ModuleBuild")


def test_mbs_verbose_view_shows_the_final_modulemd_once_there_is_one() -> None:
    """Verbose modulemd: the submitted one, then the final modulemd.txt."""
    view = mbs_module_build(BUILD, COMPONENTS, detail=Detail.VERBOSE, api_version=2)
    assert view["modulemd"] == BUILD.modulemd
    final = "document: modulemd\nversion: 2\n"
    view = mbs_module_build(
        BUILD, COMPONENTS, detail=Detail.VERBOSE, api_version=2, final_modulemd=final
    )
    assert view["modulemd"] == final
    assert_valid(view, "MbsModuleBuild")


def test_rida_list_item_has_the_described_shape() -> None:
    """A ``GET /rida/module-builds/`` item is a ModuleBuildListItem."""
    assert_valid(module_list_item(BUILD), "ModuleBuildListItem")


@pytest.mark.parametrize("detail", list(Detail), ids=lambda d: d.value)
@pytest.mark.parametrize("api_version", [1, 2])
def test_mbs_build_views_have_the_described_shape(
    detail: Detail, api_version: int
) -> None:
    """Each detail of an MBS module build, in each version, is an MbsModuleBuild."""
    view = mbs_module_build(
        BUILD, COMPONENTS, detail=detail, api_version=api_version, trace=TRACE
    )
    assert_valid(view, "MbsModuleBuild")


@pytest.mark.parametrize("detail", list(Detail), ids=lambda d: d.value)
@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.state.label)
def test_mbs_component_views_have_the_described_shape(
    detail: Detail, component: ComponentBuild
) -> None:
    """Each detail of an MBS component build, in every state, is an
    MbsComponentBuild."""
    trace = [t for t in TRACE if t.component_build_id == component.id]
    view = mbs_component_build(component, detail=detail, api_version=2, trace=trace)
    assert_valid(view, "MbsComponentBuild")


def test_mbs_build_schema_refuses_a_text_state() -> None:
    """The MBS schema is strict: ``state`` is MBS's number, not ridad's name."""
    view = mbs_module_build(BUILD, COMPONENTS, detail=Detail.SHORT, api_version=2)
    with pytest.raises(jsonschema.ValidationError):
        assert_valid({**view, "state": "build"}, "MbsModuleBuild")
