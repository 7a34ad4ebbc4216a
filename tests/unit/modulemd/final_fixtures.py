"""A built module for the final modulemd tests: its build, components and RPMs.

``demo`` has four components besides module-build-macros: ``foo`` (multilib
on x86_64, with a filtered ``foo-devel``), ``bar`` (epoch 2, an i686 build
but no multilib), ``tool`` (buildonly) and ``libbaz`` (package ``baz``, whose
RPMs Koji names by the package, and which builds no ``baz`` binary).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from ridad.domain.builds import ComponentBuild, ModuleBuild
from ridad.domain.states import ComponentState, ModuleState
from ridad.modulemd.final import BuiltRpm

NOW = datetime(2026, 12, 1, tzinfo=UTC)
COMMIT = "a" * 40
SCMURL = f"https://git.example/modules/demo.git?#{COMMIT}"

SOURCE = """\
document: modulemd
version: 2
data:
  summary: Demo module
  description: A module for the final modulemd tests.
  license:
    module: [MIT]
    content: [Stale-License]
  xmd:
    packager: {note: kept, flag: TRUE}
    mbs: {scmurl: written-by-the-packager}
  dependencies:
  - buildrequires: {platform: [f40], tools: [main]}
    requires: {platform: [f40]}
  profiles:
    default: {rpms: [foo]}
  api:
    rpms: [foo]
  filter:
    rpms: [foo-devel]
  components:
    rpms:
      foo: {rationale: Main., ref: main, multilib: [x86_64]}
      bar:
        rationale: Other.
        repository: https://git.example/rpms/bar
        cache: https://cache.example/bar
      tool: {rationale: Build tool., buildonly: true}
      libbaz: {rationale: Libraries., name: baz}
"""

BUILDREQUIRES = {
    "platform": {"stream": "f40", "base_module": True, "koji_tag": "f40-build"},
    "tools": {
        "stream": "main",
        "version": "20240101000000",
        "context": "deadbeef",
        "module_build_id": 3,
        "koji_tag": "module-tools-main-20240101000000-deadbeef",
        "base_module": False,
    },
}

#: The source of a module of metadata only: no components, a profile naming
#: an RPM of another module.
METADATA_ONLY = """\
document: modulemd
version: 2
data:
  summary: Metadata only
  description: A module without components.
  license: {module: [MIT]}
  dependencies:
  - buildrequires: {platform: [f40]}
    requires: {platform: [f40]}
  profiles:
    default: {rpms: [bash]}
"""


BUILD = ModuleBuild(
    id=7,
    name="demo",
    stream="main",
    version=4020261201000000,
    context="c0ffee00",
    state=ModuleState.BUILD,
    state_reason=None,
    owner="packager",
    scmurl=SCMURL,
    scm_commit=COMMIT,
    branch="main",
    modulemd=SOURCE,
    build_context="b" * 40,
    runtime_context="r" * 40,
    buildrequires=BUILDREQUIRES,
    requires={"platform": ["f40"]},
    koji_tag="module-demo-main-4020261201000000-c0ffee00",
    scratch=False,
    time_submitted=NOW,
    time_modified=NOW,
    time_completed=None,
)


def component(
    cid: int, name: str, batch: int, *, package: str | None = None, **changes: object
) -> ComponentBuild:
    """A complete, tagged component build."""
    base = ComponentBuild(
        id=cid,
        module_build_id=BUILD.id,
        name=name,
        type="rpms",
        package=package or name,
        repository=f"https://git.example/rpms/{package or name}",
        ref="main",
        scm_commit=f"{cid}" * 40,
        batch=batch,
        buildorder=0,
        buildafter=(),
        buildonly=False,
        state=ComponentState.COMPLETE,
        state_reason=None,
        task_id=100 + cid,
        task_state="CLOSED",
        nvr=None,
        time_modified=NOW,
        tagged=True,
    )
    return replace(base, **changes)


COMPONENTS = (
    component(
        1, "module-build-macros", 1, buildonly=True, repository="ridad/7-x", ref="srpm"
    ),
    component(2, "foo", 2),
    component(3, "bar", 2),
    component(4, "tool", 2, buildonly=True),
    component(5, "libbaz", 2, package="baz"),
)


def rpm(
    name: str,
    arch: str,
    component: str,
    license: str | None,
    *,
    evr: tuple[int | None, str, str] = (None, "1.0", "1.module_f40+7+c0ffee00"),
) -> BuiltRpm:
    """One built RPM."""
    epoch, version, release = evr
    return BuiltRpm(name, epoch, version, release, arch, license, component)


_BAR = (2, "2.0", "3.module_f40+7+c0ffee00")
_GPL = "GPL-2.0-or-later"

RPMS = (
    rpm("module-build-macros", "src", "module-build-macros", "MIT-Macros"),
    rpm("module-build-macros", "noarch", "module-build-macros", "MIT-Macros"),
    rpm("foo", "src", "foo", "Foo-Source"),
    rpm("foo", "x86_64", "foo", _GPL),
    rpm("foo", "i686", "foo", _GPL),
    rpm("foo", "aarch64", "foo", _GPL),
    rpm("foo-devel", "x86_64", "foo", "Devel-Only"),
    rpm("foo-devel", "i686", "foo", "Devel-Only"),
    rpm("foo-doc", "noarch", "foo", "CC-BY-SA-4.0"),
    rpm("foo-debuginfo", "x86_64", "foo", None),
    rpm("foo-debuginfo", "i686", "foo", None),
    rpm("foo-debugsource", "x86_64", "foo", None),
    rpm("foo-devel-debuginfo", "x86_64", "foo", "Devel-Debug-Only"),
    rpm("bar", "src", "bar", "SRPM-Only", evr=_BAR),
    rpm("bar", "x86_64", "bar", "MIT", evr=_BAR),
    rpm("bar", "i686", "bar", "MIT", evr=_BAR),
    rpm("bar", "aarch64", "bar", "MIT", evr=_BAR),
    rpm("bar-debuginfo", "x86_64", "bar", None, evr=_BAR),
    rpm("tool", "src", "tool", "Tool-License"),
    rpm("tool", "x86_64", "tool", "Tool-License"),
    rpm("baz", "src", "baz", "BSD-3-Clause"),
    rpm("baz-libs", "x86_64", "baz", "BSD-3-Clause"),
    rpm("baz-libs", "aarch64", "baz", "BSD-3-Clause"),
    rpm("baz-debugsource", "x86_64", "baz", ""),
    rpm("baz-debugsource", "aarch64", "baz", ""),
)

ARCHES = ("x86_64", "aarch64", "i686")

_FOO = "1.0-1.module_f40+7+c0ffee00"
_BAR_EVR = "2:2.0-3.module_f40+7+c0ffee00"


def foo(name: str, arch: str) -> str:
    """The NEVRA of one of foo's (or tool's, or baz's) RPMs."""
    return f"{name}-0:{_FOO}.{arch}"


def bar(name: str, arch: str) -> str:
    """The NEVRA of one of bar's RPMs."""
    return f"{name}-{_BAR_EVR}.{arch}"


WHOLE = {
    foo("foo", "src"),
    foo("foo", "x86_64"),
    foo("foo", "i686"),
    foo("foo", "aarch64"),
    foo("foo-doc", "noarch"),
    foo("foo-debuginfo", "x86_64"),
    foo("foo-debuginfo", "i686"),
    foo("foo-debugsource", "x86_64"),
    bar("bar", "src"),
    bar("bar", "x86_64"),
    bar("bar", "i686"),
    bar("bar", "aarch64"),
    bar("bar-debuginfo", "x86_64"),
    foo("baz", "src"),
    foo("baz-libs", "x86_64"),
    foo("baz-libs", "aarch64"),
    foo("baz-debugsource", "x86_64"),
    foo("baz-debugsource", "aarch64"),
}

PER_ARCH = {
    "x86_64": {
        foo("foo", "src"),
        foo("foo", "x86_64"),
        foo("foo", "i686"),
        foo("foo-doc", "noarch"),
        foo("foo-debuginfo", "x86_64"),
        foo("foo-debuginfo", "i686"),
        foo("foo-debugsource", "x86_64"),
        bar("bar", "src"),
        bar("bar", "x86_64"),
        bar("bar-debuginfo", "x86_64"),
        foo("baz", "src"),
        foo("baz-libs", "x86_64"),
        foo("baz-debugsource", "x86_64"),
    },
    "aarch64": {
        foo("foo", "src"),
        foo("foo", "aarch64"),
        foo("foo-doc", "noarch"),
        bar("bar", "src"),
        bar("bar", "aarch64"),
        foo("baz", "src"),
        foo("baz-libs", "aarch64"),
        foo("baz-debugsource", "aarch64"),
    },
    "i686": {
        foo("foo", "src"),
        foo("foo", "i686"),
        foo("foo-doc", "noarch"),
        foo("foo-debuginfo", "i686"),
        bar("bar", "src"),
        bar("bar", "i686"),
    },
}

LICENSES = ("BSD-3-Clause", "CC-BY-SA-4.0", _GPL, "MIT")

#: A source with every section of stream v2 a packager may write.
RICH = """\
document: modulemd
version: 2
data:
  name: demo
  stream: main
  static_context: true
  context: c0ffee00
  summary: "Rich: every section"
  description: |
    A description long enough to be folded by the emitter, because it goes on past eighty columns.
      An indented line, and the packager’s own “quotes”.

    After an empty line.
  servicelevels:
    rawhide: {eol: 2030-01-01}
    stable: {}
  license:
    module: [MIT, BSD-3-Clause]
  xmd:
    packager: {list: [b, a], number: "1.10", flag: FALSE, empty: {}}
  dependencies:
  - buildrequires: {platform: [f40], tools: [main]}
    requires: {platform: [f40], other: []}
  - {}
  references:
    community: "https://community.example/#a: b"
    tracker: https://tracker.example
  profiles:
    default: {description: The default., rpms: [foo, bar], default: true}
    minimal: {}
  api: {rpms: [foo]}
  filter: {rpms: [foo-devel]}
  demodularized: {rpms: [old]}
  buildopts:
    rpms:
      macros: |
        %demo 1
        %other 2
      whitelist: [baz, bar, foo, tool]
    arches: [x86_64, aarch64, i686]
  components:
    rpms:
      foo:
        rationale: "Main: the one"
        cache: https://cache.example/foo
        buildroot: true
        srpm-buildroot: true
        arches: [x86_64, aarch64, i686]
        multilib: [x86_64]
      bar: {rationale: Other., buildorder: 0}
      tool: {rationale: Tool., buildonly: true}
      libbaz: {rationale: Libraries., name: baz}
"""

V1 = """\
document: modulemd
version: 1
data:
  summary: S
  description: D
  eol: 2030-06-01
  license: {module: [MIT]}
  dependencies: {buildrequires: {platform: f40}, requires: {platform: f40}}
  components: {rpms: {foo: {rationale: R}, bar: {rationale: R}}}
"""
