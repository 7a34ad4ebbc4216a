"""What the gating driver tests share: a gated driver over kojisim, real
PostgreSQL and the Greenwave stand-in, and ways to bring a build to done."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from treq.client import HTTPClient
from twisted.internet.interfaces import IListeningPort

from ridad.bus.publisher import validate_body
from ridad.config.model import KojiConfig
from ridad.db.builds import ModuleBuildStore, SchedulingStore
from ridad.db.pool import Pool
from ridad.domain.builds import BuildSnapshot, ModuleBuild
from ridad.domain.states import ModuleState
from ridad.gating.greenwave import GreenwaveClient
from ridad.scheduler.cgimport import make_importer
from ridad.scheduler.driver import BuildDriver
from ridad.scheduler.gating import GreenwaveGate
from ridad.scheduler.macros import MacrosSrpm
from ridad.transitions import Transitions
from tests.db.test_driver import EPOCH, platform_build
from tests.db.test_transitions import new_build
from tests.fakes.greenwave import CONTEXT, SUBJECT_TYPE, TESTCASE, GreenwaveStandIn
from tests.helpers import run_inline
from tests.unit.koji.simworld import SimWorld

RECHECK_SECONDS = 600.0
HELD = (
    "Waiting for Greenwave (rhel-8): Of 1 required test, 1 result missing:"
    f" {TESTCASE} (test-result-missing)"
)
PASSED = (
    "Greenwave policies satisfied (rhel-8): All required tests (1 total) have"
    " passed or been waived"
)


@dataclass
class GatedRig:
    """A gated driver, its Koji world, the stand-in and the database."""

    pool: Pool
    world: SimWorld
    transitions: Transitions
    standin: GreenwaveStandIn
    port: IListeningPort
    http: HTTPClient
    driver: BuildDriver
    gate: GreenwaveGate

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port.getHost().port}/api/v1.0"

    async def cycle(self) -> None:
        """One driver cycle, then let kojisim run what it was given."""
        await self.driver.cycle(EPOCH)
        self.world.run_until_idle()

    async def cycle_until(
        self, module_build_id: int, *states: ModuleState
    ) -> BuildSnapshot:
        """Cycle until the build reaches one of ``states`` (at most 40 cycles)."""
        for _ in range(40):
            snapshot = await self.read(module_build_id)
            if snapshot.build.state in states:
                return snapshot
            await self.cycle()
        raise AssertionError(f"build {module_build_id}: {snapshot.build.state_reason}")

    async def read(self, module_build_id: int) -> BuildSnapshot:
        build, components = await ModuleBuildStore(pool=self.pool).get_with_components(
            module_build_id
        )
        return BuildSnapshot(build, tuple(components))

    async def module_messages(self) -> list[dict[str, Any]]:
        """The module messages of the outbox, oldest first, each checked
        against its schema."""
        rows = await self.pool.run_query(
            "SELECT body FROM outbox WHERE topic = 'module.state.change' ORDER BY id"
        )
        bodies = [
            r["body"] if isinstance(r["body"], dict) else json.loads(r["body"])
            for r in rows
        ]
        for body in bodies:
            validate_body("module.state.change", body)
        return bodies

    async def trace(
        self, module_build_id: int
    ) -> list[tuple[str | None, str, str | None]]:
        """The module-level trace: (old state, new state, reason)."""
        rows = await self.pool.run_query(
            "SELECT old_state, new_state, reason FROM state_trace WHERE"
            " module_build_id = %s AND component_build_id IS NULL ORDER BY id",
            (module_build_id,),
        )
        return [(r["old_state"], r["new_state"], r["reason"]) for r in rows]

    def new_driver(self, *, gated: bool = True) -> tuple[BuildDriver, GreenwaveGate]:
        """Another driver (a restarted process), gated or not."""
        gate = make_gate(self.http, self.url, self.transitions, self.world)
        driver = make_driver(
            self.pool, self.world, self.transitions, gate if gated else None
        )
        return driver, gate


def make_gate(
    http: HTTPClient, url: str, transitions: Transitions, world: SimWorld
) -> GreenwaveGate:
    client = GreenwaveClient(
        http=http,
        api_root=url,
        decision_context=CONTEXT,
        subject_type=SUBJECT_TYPE,
        timeout_seconds=10,
        clock=world.clock,
    )
    return GreenwaveGate(
        greenwave=client,
        transitions=transitions,
        clock=world.clock,
        recheck_seconds=RECHECK_SECONDS,
    )


def make_driver(
    pool: Pool, world: SimWorld, transitions: Transitions, gate: GreenwaveGate | None
) -> BuildDriver:
    async def build_macros(build: ModuleBuild, dist: str) -> MacrosSrpm:
        nvr = f"module-build-macros-0.1-{build.id}"
        return MacrosSrpm(f"{nvr}.src.rpm", b"srpm bytes", nvr, ".m")

    return BuildDriver(
        store=SchedulingStore(pool=pool),
        koji=world.koji,
        transitions=transitions,
        config=KojiConfig(hub="http://kojihub.test/kojihub"),
        clock=world.clock,
        build_macros=build_macros,
        importer=make_importer(
            pool=pool,
            koji=world.koji,
            transitions=transitions,
            config=KojiConfig(hub="http://kojihub.test/kojihub"),
            clock=world.clock,
            run_blocking=run_inline,
        ),
        gate=gate,
    )


def nvr_of(build: ModuleBuild) -> str:
    """The module's NVR, as MBS and Greenwave name it."""
    return (
        f"{build.name}-{build.stream.replace('-', '_')}-{build.version}.{build.context}"
    )


def decision_update(
    subject: str, *, context: str = CONTEXT, satisfied: bool = True
) -> bytes:
    """A greenwave.decision.update body as Greenwave's STOMP publisher sends it."""
    decision = {
        "subject_type": SUBJECT_TYPE,
        "subject_identifier": subject,
        "product_version": "rhel-8",
        "decision_context": context,
        "policies_satisfied": satisfied,
        "summary": "All required tests (1 total) have passed or been waived",
    }
    return json.dumps({"msg": decision, "topic": "greenwave.decision.update"}).encode()


async def held_build(rig: GatedRig) -> BuildSnapshot:
    """Build the platform module until it is done and held by Greenwave."""
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    done = await rig.cycle_until(
        module_build_id, ModuleState.DONE, ModuleState.READY, ModuleState.FAILED
    )
    assert done.build.state is ModuleState.DONE, done.build.state_reason
    return done


async def forced_done(rig: GatedRig, name: str) -> int:
    """A build moved to done by transitions alone (nothing built in Koji)."""
    module_build_id, _ = await rig.transitions.create_module_build(new_build(name))
    await rig.transitions.change_module_state(
        module_build_id, ModuleState.WAIT, None, epoch=EPOCH
    )
    await rig.transitions.record_environment(
        module_build_id, koji_tag=f"module-{name}", macros=None, epoch=EPOCH
    )
    await rig.transitions.change_module_state(
        module_build_id, ModuleState.DONE, None, epoch=EPOCH
    )
    return module_build_id
