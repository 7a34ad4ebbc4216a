"""The rig of the import tests: kojisim whose builds make several RPMs (one
of them filtered by the module), a driver with a chosen Koji configuration,
and transitions that can "crash" (raise instead of writing) at one intent,
as a process killed between Koji's answer and its record would."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from ridad.config.model import KojiConfig
from ridad.db.builds import SchedulingStore
from ridad.db.pool import Pool
from ridad.domain.builds import ModuleBuild, NewModuleBuild
from ridad.kojisim.sources import Source
from ridad.kojisim.specs import NVR, BuildSpec, Package
from ridad.scheduler.cgimport import make_importer
from ridad.scheduler.driver import BuildDriver
from ridad.scheduler.macros import MacrosSrpm
from ridad.scheduler.sweeps import BuildSweeps
from ridad.transitions import Transitions
from tests.db.test_driver import platform_build
from tests.helpers import run_inline
from tests.unit.koji.simworld import SimWorld
from tests.unit.kojisim.support import FixedNVRInspector, HubClient

CONFIG = KojiConfig(hub="http://kojihub.test/kojihub")
CG_TAG = "modular-updates-candidate"
MODULE_NVR = "one-main-1.c0ffee00"

#: The submitted modulemd: a and b, a's -devel filtered.
MODULEMD = """\
document: modulemd
version: 2
data:
  summary: A test module
  description: A module whose import the tests follow.
  license: {module: [MIT]}
  filter:
    rpms: [a-devel]
  components:
    rpms:
      a: {rationale: Test., ref: main}
      b: {rationale: Test., ref: main}
"""

#: What each component's SPEC builds: binary packages (name, License, noarch).
PACKAGES = {
    "a": (
        Package("a", "GPL-2.0-or-later", False),
        Package("a-devel", "GPL-2.0-or-later", False),
        Package("a-doc", "CC-BY-4.0", True),
    ),
    "b": (Package("b", "MIT", True),),
}


@dataclass
class SpecInspector:
    """Answers a and b with their packages (b with an epoch), anything else
    (module-build-macros) as the fixed test inspector does."""

    fallback: FixedNVRInspector = field(default_factory=FixedNVRInspector)

    async def nvr(self, source: Source, dist: str) -> NVR:
        """What the source builds."""
        name = source.repo_name or ""
        if name not in PACKAGES:
            return await self.fallback.nvr(source, dist)
        return BuildSpec(
            name=name,
            version="1.0",
            release="1",
            epoch=2 if name == "b" else None,
            license=PACKAGES[name][0].license,
            packages=PACKAGES[name],
        )


def module_build() -> NewModuleBuild:
    """The submission of module ``one`` with the filtering modulemd."""
    return replace(platform_build(), modulemd=MODULEMD)


class CrashingTransitions(Transitions):
    """Transitions that raise, once, instead of running the named intents:
    the process died before it recorded what Koji had answered."""

    def __init__(self, *, crash_at: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.crash_at = set(crash_at)

    def _crash(self, intent: str) -> None:
        if intent in self.crash_at:
            self.crash_at.discard(intent)
            raise ProcessKilled(intent)

    async def record_cg_reserved(self, *args: Any, **kwargs: Any) -> Any:
        self._crash("record_cg_reserved")
        return await super().record_cg_reserved(*args, **kwargs)

    async def record_cg_imported(self, *args: Any, **kwargs: Any) -> Any:
        self._crash("record_cg_imported")
        return await super().record_cg_imported(*args, **kwargs)


class ProcessKilled(Exception):
    """Stands for a kill -9 at that point."""


def make_driver(
    pool: Pool,
    world: SimWorld,
    transitions: Transitions,
    config: KojiConfig = CONFIG,
    *,
    sweeps: BuildSweeps | None = None,
    **importing: Any,
) -> BuildDriver:
    """A driver (a new process) on the database and the hub, running
    ``sweeps`` from its cycle as in production; ``importing`` goes to the
    importer (``inline_metadata_bytes``)."""

    async def build_macros(build: ModuleBuild, dist: str) -> MacrosSrpm:
        name = "module-build-macros-0.1-1.src.rpm"
        return MacrosSrpm(name, b"srpm bytes", "module-build-macros-0.1-1", ".m")

    return BuildDriver(
        store=SchedulingStore(pool=pool),
        koji=world.koji,
        transitions=transitions,
        config=config,
        clock=world.clock,
        build_macros=build_macros,
        importer=make_importer(
            pool=pool,
            koji=world.koji,
            transitions=transitions,
            config=config,
            clock=world.clock,
            run_blocking=run_inline,
            **importing,
        ),
        sweeps=sweeps,
    )


def module_builds(world: SimWorld) -> list[dict[str, Any]]:
    """Koji's builds of the module's NVR, whatever their state or type
    (a reservation has no type yet), as getBuild shows them."""
    state = world.sim.state
    found = []
    for build in state.builds.values():
        if build.cg_id is not None:
            found.append(HubClient(world.sim).call("getBuild", build.id))
    return found


def sent(world: SimWorld, method: str) -> int:
    """How many times ridad sent ``method`` (alone or in multicalls)."""
    return sum(request.count(method) for request in world.agent.sent)
