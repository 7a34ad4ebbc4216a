"""A build's page (``GET /builds/N``) rendered from in-memory store answers:
what it shows of the build, its batches, components, failures, trace and
final modulemd, and that it is well-formed for assistive technology."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

from ridad.domain.states import ComponentState, ModuleState
from ridad.web.model import KojiLinks, build_page, split_reason
from ridad.web.render import format_duration
from tests.unit.web.pagedata import (
    FAILURE,
    T0,
    FakePages,
    component,
    many_components,
    three_batches,
)
from tests.unit.web.support import WEBURL, get, make_pages, parse, text_of


def page_of(data, weburl: str | None = WEBURL):
    fake = FakePages(pages={data.build.id: data})
    answer = get(make_pages(fake, weburl=weburl), f"/builds/{data.build.id}")
    assert answer.code == 200, answer.body
    return answer, parse(answer.body)


def test_the_page_shows_the_build_its_batches_and_each_component() -> None:
    """Header facts, one timeline entry per batch, each component's state
    (word and sign), NVR, Koji task link and duration."""
    answer, page = page_of(three_batches())
    assert answer.header("Content-Type") == "text/html; charset=utf-8"
    assert answer.header("Cache-Control") == "no-cache"
    assert "default-src 'none'" in (answer.header("Content-Security-Policy") or "")
    assert text_of(page.find("h1")[0]) == "Build 7 demo:main:4020261127100000:c0ffee00"
    assert text_of(page.by_id("module-state")) == "◑ build"
    batches = page.find("li", **{"class": "batch batch-complete"})
    assert [b.attrs["id"] for b in batches] == ["batch-1", "batch-2"]
    assert text_of(page.by_id("batch-3-h")) == "Batch 3 ✗ failed"
    assert text_of(page.by_id("batch-4-h")) == "Batch 4 ◑ building"
    states = {
        e.attrs["data-component"]: e.text
        for e in page.find("tbody")
        if "data-component" in e.attrs
    }
    assert set(states) == {"module-build-macros", "alpha", "beta", "gamma"}
    alpha = " ".join(states["alpha"].split())
    assert "alpha-1.0-1.module+f40+7+c0ffee00" in alpha
    assert "✓ complete" in alpha and "33 s" in alpha
    assert page.find("a", href=f"{WEBURL}/taskinfo?taskID=1201")
    assert page.find("a", href=f"{WEBURL}/buildinfo?buildID=501")
    gamma = " ".join(states["gamma"].split())
    assert "◑ building" in gamma and "1 min 15 s" in gamma  # running since 10:02:05
    assert text_of(page.by_id("live-status")) == (
        "Build 7, state build; 4 components: 1 building, 2 complete, 1 failed."
    )


def test_a_failed_component_shows_its_reason_and_its_log_tail_in_details() -> None:
    """The first line of the reason in the row, the log under a summary
    naming the log and task; text is escaped, never markup."""
    data = three_batches()
    _, page = page_of(data)
    details = page.by_id("log-102")
    assert details.tag == "details"
    summary = page.find("summary")[0]
    assert text_of(summary) == "last 5 lines of build.log (Koji task 1203)"
    log = page.find("pre", **{"class": "log"})[0]
    assert "beta.c:12:5: error: 'frob' undeclared" in log.text
    hostile = replace(
        data,
        components=tuple(
            replace(c, state_reason="<script>alert(1)</script>\nmore <b>")
            if c.name == "beta"
            else c
            for c in data.components
        ),
    )
    answer, page = page_of(hostile)
    assert "<script>alert" not in answer.body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.body
    assert text_of(page.find("summary")[0]) == "More"


def test_without_koji_weburl_tasks_are_ids_as_text() -> None:
    """No ``koji.weburl``: the task id is shown, linked nowhere."""
    answer, page = page_of(three_batches(), weburl=None)
    assert "taskinfo" not in answer.body and "buildinfo" not in answer.body
    assert "1201" in text_of(page.by_id("component-101"))


def test_the_state_trace_and_the_final_modulemd() -> None:
    """The module's trace rows in a table with column headers; the final
    modulemd in a <pre> with a link once written, else a sentence."""
    _, page = page_of(three_batches())
    rows = [text_of(r) for r in page.find("tr") if "UTC" in r.text and "init" in r.text]
    assert rows[0].startswith("2026-11-27 10:00:00 UTC — ○ init submitted")
    assert "Not written yet" in text_of(page.find("section")[-2])
    _, page = page_of(many_components(3))
    (pre,) = page.find("pre", **{"class": "document"})
    assert "package-002-1.0-1.module+f40+7+c0ffee00.noarch" in pre.text
    assert page.find("a", href="/rida/module-builds/7/modulemd")


def test_the_page_is_well_formed_for_assistive_technology() -> None:
    """A language, one h1, headings in order, landmarks, unique ids, every
    column header scoped, every table captioned, a labelled snippet, and
    ``aria-labelledby`` pointing at real ids."""
    answer, page = page_of(many_components(30))
    assert page.find("html", lang="en")
    assert len(page.find("h1")) == 1
    assert page.find("main") and page.find("header") and page.find("footer")
    ids = Counter(e.attrs["id"] for e in page.elements if e.attrs.get("id"))
    assert [i for i, n in ids.items() if n > 1] == []
    for th in page.find("th"):
        assert th.attrs.get("scope") in ("col", "row"), th
    assert len(page.find("caption")) == len(page.find("table"))
    for e in page.elements:
        if "aria-labelledby" in e.attrs:
            assert e.attrs["aria-labelledby"] in ids
    for control in page.find("textarea"):
        assert page.find("label", **{"for": control.attrs["id"]})
    (status,) = page.find("p", role="status")
    assert status.attrs["id"] == "live-status"
    assert page.find("a", href="")  # the reload link, for pages without script


def test_unknown_builds_and_paths_are_html_404_and_writes_405() -> None:
    """A missing build and an unknown page path are HTML 404 pages; a POST
    to a page is 405 with ``Allow``."""
    client = make_pages(FakePages(pages={7: three_batches()}))
    for url in ("/builds/8", "/builds/nope", "/builds/99999999999999999999"):
        answer = get(client, url)
        assert answer.code == 404, url
        assert answer.header("Content-Type") == "text/html; charset=utf-8"
        assert "<h1>404 Not Found</h1>" in answer.body
    answer = get(client, "/builds/7", method="POST")
    assert (answer.code, answer.header("Allow")) == (405, "GET, HEAD")
    assert "<h1>405 Method Not Allowed</h1>" in answer.body


def test_batch_times_and_bars_come_from_the_components_traces() -> None:
    """A batch runs from its first component's start to its last one's end;
    a running batch has no end and its bar reaches now."""
    now = T0 + timedelta(seconds=200)
    page = build_page(three_batches(), links=KojiLinks(), now=now)
    first, second, third, fourth = page.batches
    assert (first.started, first.ended) == (
        T0 + timedelta(seconds=5),
        T0 + timedelta(seconds=38),
    )
    assert first.duration_seconds == 33
    assert first.bar == (25, 165)  # 5 s and 33 s of a 200 s axis
    assert (third.state, fourth.state) == ("failed", "building")
    assert fourth.ended is None and fourth.bar == (625, 375)
    assert page.duration_seconds == 200


def test_a_retried_component_counts_its_last_attempt_and_a_reused_one_none() -> None:
    """After failed -> waiting -> building -> complete, the duration is the
    last build's; a component reused from another build has no duration."""
    data = three_batches()
    now = T0 + timedelta(seconds=600)
    retried = component(
        200, "delta", 5, state=ComponentState.COMPLETE, time_modified=now, task_id=9
    )
    reused = component(
        201, "eps", 5, state=ComponentState.COMPLETE, reused_component_id=3
    )
    trace = list(data.trace)
    for i, (old, new, at) in enumerate(
        [("waiting", "building", 300), ("building", "failed", 310),
         ("failed", "waiting", 320), ("waiting", "building", 330),
         ("building", "complete", 390)]
    ):  # fmt: skip
        trace.append(replace(trace[-1], id=100 + i, component_build_id=200,
                             old_state=old, new_state=new, time=T0 + timedelta(seconds=at)))  # fmt: skip
    data = replace(
        data, components=data.components + (retried, reused), trace=tuple(trace)
    )
    page = build_page(data, links=KojiLinks(), now=now)
    delta, eps = page.batches[-1].components
    assert delta.duration_seconds == 60
    assert eps.reused and eps.duration_seconds is None


def test_reasons_split_into_koji_s_line_and_the_log() -> None:
    """``reason_with_log``'s text comes apart again; other reasons keep
    their lines."""
    failure = split_reason(FAILURE)
    assert failure is not None
    assert failure.summary.startswith("BuildError: error building package")
    assert failure.log_title == "last 5 lines of build.log (Koji task 1203)"
    assert failure.log_lines[-1].startswith("error: Bad exit status")
    plain = split_reason("canceled\nbecause the build failed")
    assert plain is not None and plain.log_title is None
    assert plain.log_lines == ("because the build failed",)
    assert split_reason(None) is None


def test_durations_read_well() -> None:
    """Seconds, minutes, hours and days, the two largest units."""
    assert [format_duration(s) for s in (None, 0.25, 4, 125, 3780, 180000)] == [
        "—", "0.2 s", "4 s", "2 min 5 s", "1 h 3 min", "2 d 2 h",
    ]  # fmt: skip


def test_a_failed_build_shows_its_reason() -> None:
    """The module's reason is shown under its facts."""
    data = three_batches()
    failed = replace(
        data.build, state=ModuleState.FAILED, state_reason="Component beta failed",
        time_completed=T0 + timedelta(seconds=120),
    )  # fmt: skip
    _, page = page_of(replace(data, build=failed))
    (reason,) = page.find("p", **{"class": "reason error"})
    assert text_of(reason) == "Reason: Component beta failed"
