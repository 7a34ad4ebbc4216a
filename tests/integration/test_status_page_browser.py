"""The status page in a real browser: Debian's headless Chromium, driven by
Selenium through Debian's chromedriver (nothing is downloaded), at phone
width, loads the page of a three-batch module while it builds in kojisim
under a ``twistd ridad`` process, and sees its states change without a
reload, from the event stream. Screenshots go to ``$RIDAD_TEST_ARTIFACTS``
(default ``/tmp/ridad-test-artifacts``), never into the repository.

Selenium blocks, so every browser call runs in the reactor's thread pool:
the reactor keeps running kojisim meanwhile."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.threads import deferToThreadPool

from tests.helpers import missing, require_program
from tests.integration.kojiworld import KojiWorld
from tests.integration.processes import Processes, RidadProcess
from tests.integration.support import GitWorld, modulemd_text
from tests.integration.test_crash import (
    crash_config,
    is_building,
    submit,
    wait_for_build,
)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PHONE = (390, 900)
THREE_BATCHES = {
    "alpha": {"rationale": "first", "buildorder": 1},
    "beta": {"rationale": "second", "buildorder": 2},
    "gamma": {"rationale": "third", "buildorder": 3},
}
WAIT_SECONDS = 90
T = TypeVar("T")

#: What the page shows now: each component's state, the module's, the
#: live indicator, and the marker set at load (gone if the page reloaded).
READ_PAGE = """
const states = {};
for (const body of document.querySelectorAll("tbody[data-component]")) {
  states[body.dataset.component] = body.querySelector(".component-state").dataset.state;
}
const module = document.querySelector("#module-state .state").textContent.trim();
return {components: states, module: module.split(" ").pop(),
        live: document.getElementById("live-indicator").textContent,
        marker: window.ridadTestMarker || null};
"""
#: Problems a phone-width reader would have (``arguments[0]``: the phone's
#: width): a page wider than the window, form controls without a label.
ACCESS_PROBLEMS = """
const problems = [];
if (window.innerWidth !== arguments[0]) {
  problems.push("the window is " + window.innerWidth + " px wide");
}
if (document.documentElement.scrollWidth > window.innerWidth) {
  problems.push("page is " + document.documentElement.scrollWidth + " px wide in "
                + window.innerWidth);
}
for (const c of document.querySelectorAll("input, select, textarea")) {
  if (!(c.labels && c.labels.length) && !c.getAttribute("aria-label")) {
    problems.push("unlabelled " + c.tagName + " " + (c.id || c.name));
  }
}
return problems;
"""


def artifacts_dir() -> Path:
    """Where screenshots go (created)."""
    path = Path(os.environ.get("RIDAD_TEST_ARTIFACTS") or "/tmp/ridad-test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def in_thread(call: Callable[[], T]) -> Any:
    """``call`` in the reactor's thread pool, as a Deferred."""
    return deferToThreadPool(reactor, reactor.getThreadPool(), call)


def require_browser() -> None:
    """Skip without Chromium, its driver or Selenium (fail under CI=true)."""
    require_program(CHROMIUM, "chromium")
    require_program(CHROMEDRIVER, "chromium-driver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing("selenium is not installed (pip install -e '.[test]')")


def start_browser() -> Any:
    """Headless Chromium at phone size, driven through Debian's chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
        "--disable-gpu", "--hide-scrollbars", "--no-first-run",
    ):  # fmt: skip
        options.add_argument(argument)
    # A phone's viewport (a desktop window is never narrower than 500 px).
    metrics = {"width": PHONE[0], "height": PHONE[1], "pixelRatio": 2}
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    return webdriver.Chrome(
        options=options, service=Service(executable_path=CHROMEDRIVER)
    )


def wait_until(
    browser: Any, condition: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    """The page's reading once ``condition`` holds (WebDriverWait polls)."""
    from selenium.webdriver.support.ui import WebDriverWait

    seen: list[dict[str, Any]] = []

    def check(driver: Any) -> dict[str, Any] | None:
        reading = driver.execute_script(READ_PAGE)
        seen[:] = [reading]
        return reading if condition(reading) else None

    try:
        return WebDriverWait(browser, WAIT_SECONDS, poll_frequency=0.1).until(check)
    except Exception as e:  # TimeoutException: say what the page showed
        raise AssertionError(f"the page never showed {what}: {seen}") from e


@dataclass
class Phone:
    """The browser at phone width, with the test's blocking steps (each run
    through ``in_thread``)."""

    driver: Any
    artifacts: Path

    def load(self, url: str) -> dict[str, Any]:
        """Open ``url``, mark the window, wait until the page is live."""
        self.driver.get(url)
        self.driver.execute_script("window.ridadTestMarker = 'loaded once'")
        return wait_until(self.driver, lambda r: r["live"] == "Live", "the stream open")

    def until_ready(self) -> dict[str, Any]:
        """Wait until the module is ready and every component complete."""
        return wait_until(
            self.driver,
            lambda r: (
                r["module"] == "ready" and set(r["components"].values()) == {"complete"}
            ),
            "the module ready",
        )

    def problems(self) -> list[str]:
        """What a phone-width reader would stumble on (ACCESS_PROBLEMS)."""
        return list(self.driver.execute_script(ACCESS_PROBLEMS, PHONE[0]))

    def screenshot(self, name: str) -> Path:
        """The window, as a PNG in the artifacts."""
        path = self.artifacts / name
        self.driver.save_screenshot(str(path))
        return path

    def full_page_screenshot(self, name: str) -> Path:
        """The whole page at the phone's width, as a PNG in the artifacts."""
        path = self.artifacts / name
        height = self.driver.execute_script(
            "return document.documentElement.scrollHeight"
        )
        clip = {"x": 0, "y": 0, "width": PHONE[0], "height": height, "scale": 1}
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


async def building_module(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld,
    processes: Processes, tmp_path: Path,
) -> tuple[RidadProcess, int]:  # fmt: skip
    """``twistd ridad`` on kojisim with ``koji.weburl``, and the id of a
    three-batch module whose macros task waits (the builder paused)."""
    koji_world.hub.pause_builder()  # tasks wait FREE until resumed
    for name in THREE_BATCHES:
        git_world.rpm(name)
    config = crash_config(database_dsn, git_world, tmp_path, koji_world.url)
    config["koji"]["weburl"] = "https://koji.example.org/koji"
    ridad = await processes.start("ridad", config)
    build_id = await submit(ridad, git_world, modulemd_text(THREE_BATCHES))
    await wait_for_build(ridad, build_id, is_building, "a submitted macros task")
    return ridad, build_id


@pytest_twisted.ensureDeferred
async def test_the_build_page_follows_a_build_live_at_phone_width(
    database_dsn: str,
    git_world: GitWorld,
    koji_world: KojiWorld,
    processes: Processes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Loaded while the macros task waits in Koji, the page of a module of
    three batches shows each later state without reloading (the marker set
    at load survives), until the module is ready with every component
    complete; no horizontal scroll and every control labelled at 390 px."""
    require_browser()
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager: never download
    phone = Phone(driver=await in_thread(start_browser), artifacts=artifacts_dir())
    try:
        ridad, build_id = await building_module(
            database_dsn, git_world, koji_world, processes, tmp_path
        )
        at_load = await in_thread(lambda: phone.load(ridad.url(f"/builds/{build_id}")))
        assert at_load["module"] == "build", at_load
        assert at_load["components"] == {
            "module-build-macros": "building", "alpha": "waiting",
            "beta": "waiting", "gamma": "waiting",
        }  # fmt: skip
        assert await in_thread(phone.problems) == []
        shots = [await in_thread(lambda: phone.screenshot("build-page-at-load.png"))]

        koji_world.hub.resume_builder()
        ready = await in_thread(phone.until_ready)
        assert ready["marker"] == "loaded once", "the page reloaded"
        shots.append(
            await in_thread(lambda: phone.full_page_screenshot("build-page-ready.png"))
        )
        assert await in_thread(phone.problems) == []

        await in_thread(lambda: phone.driver.get(ridad.url("/?name=demo")))
        assert await in_thread(phone.problems) == []
        shots.append(await in_thread(lambda: phone.screenshot("build-list.png")))
        print("screenshots:", *map(str, shots))
    finally:
        await in_thread(phone.driver.quit)
