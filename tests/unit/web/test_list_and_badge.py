"""The list of builds at ``/`` (filters, paging, labelled controls), the
badge of a module stream, the static files, the palette's contrast, the
status page's place on the API's site, and ``koji.weburl``."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
import yaml
from treq.testing import StubTreq
from twisted.web.resource import Resource

from ridad.api.site import PrefixDispatch
from ridad.config.parse import parse_config
from ridad.domain.states import ModuleState
from ridad.errors import ConfigError
from ridad.web.app import PREFIXES
from ridad.web.badge import state_badge, text_width
from ridad.web.palette import (
    BADGE_LABEL,
    BADGE_STATES,
    BADGE_TEXT,
    PAGE,
    STATES,
    TEXT_ON_BACKGROUND,
    contrast_ratio,
)
from ridad.web.render import Renderer
from tests.unit.web.pagedata import FakePages, three_batches
from tests.unit.web.support import get, make_pages, parse, text_of

AA = 4.5


def many_builds(count: int) -> FakePages:
    data = three_batches()
    states = list(ModuleState)
    fake = FakePages()
    for i in range(1, count + 1):
        build = replace(
            data.build,
            id=i,
            name=f"mod{i % 3}",
            owner="bob" if i % 2 else "alice",
            state=states[i % len(states)],
        )
        fake.pages[i] = replace(data, build=build)
    return fake


def test_the_list_shows_builds_newest_first_with_links_and_states() -> None:
    """Each row: the build's number and module, linked to its page, state
    word, owner and submission time; the count in the status line."""
    answer = get(make_pages(many_builds(3)), "/")
    assert answer.code == 200
    page = parse(answer.body)
    rows = [text_of(r) for r in page.find("tr")][1:]
    assert rows[0].startswith("3 mod0:main 4020261127100000:c0ffee00 ◕ done bob")
    assert [r.split()[0] for r in rows] == ["3", "2", "1"]
    assert page.find("a", href="/builds/2")
    assert text_of(page.by_id("live-status")) == "3 builds; page 1 of 1."
    assert page.find("main", **{"data-events": "/rida/events"})


def test_filters_reach_the_store_and_empty_fields_filter_nothing() -> None:
    """The form's fields as the query: state, name, stream, owner; a field
    left empty is no filter; the form shows what was asked."""
    fake = many_builds(12)
    answer = get(make_pages(fake), "/?state=failed&name=mod1&stream=&owner=bob")
    assert answer.code == 200
    build_filter, page_number, per_page = fake.asked[-1]
    assert build_filter.states == (ModuleState.FAILED,)
    assert (build_filter.name, build_filter.stream, build_filter.owner) == (
        "mod1",
        None,
        "bob",
    )
    assert (page_number, per_page) == (1, 50)
    page = parse(answer.body)
    (chosen,) = [o for o in page.find("option") if "selected" in o.attrs]
    assert chosen.attrs["value"] == "failed"
    assert page.find("input", id="f-name", value="mod1")
    assert page.find("main", **{"data-events": "/rida/events?name=mod1"})


def test_paging_links_keep_the_filters() -> None:
    """Newer and older pages link with the same filters."""
    fake = many_builds(120)
    page = parse(get(make_pages(fake), "/?owner=alice&page=2&per_page=20").body)
    assert page.find("a", rel="prev", href="/?owner=alice&per_page=20&page=1")
    assert page.find("a", rel="next", href="/?owner=alice&per_page=20&page=3")
    assert "Page 2 of 3" in text_of(
        page.find("nav", **{"aria-label": "Pages of builds"})[0]
    )


def test_a_bad_query_is_an_html_400_naming_the_problem() -> None:
    """An unknown state or page number is explained on an HTML page."""
    client = make_pages(many_builds(1))
    answer = get(client, "/?state=baked")
    assert answer.code == 400
    assert "state: must be one of init, wait, build" in answer.body
    assert get(client, "/?page=0").code == 400
    assert get(client, "/?colour=red").code == 400


def test_every_form_control_has_a_label() -> None:
    """Each input and select of the filters has a <label for> of its id."""
    page = parse(get(make_pages(many_builds(1)), "/").body)
    controls = page.find("input") + page.find("select")
    assert len(controls) == 4
    for control in controls:
        (label,) = page.find("label", **{"for": control.attrs["id"]})
        assert text_of(label)
    assert page.find("form", role="search")


def test_the_badge_shows_the_newest_build_s_state() -> None:
    """``/rida/badges/NAME/STREAM.svg``: the state of the stream's newest
    build that is not scratch, coloured by it; cached briefly."""
    fake = many_builds(4)  # mod1: builds 1 (wait) and 4 (failed)
    fake.pages[9] = replace(
        fake.pages[1],
        build=replace(fake.pages[1].build, id=9, scratch=True, state=ModuleState.READY),
    )
    answer = get(make_pages(fake), "/rida/badges/mod1/main.svg")
    assert answer.code == 200
    assert answer.header("Content-Type") == "image/svg+xml; charset=utf-8"
    assert answer.header("Cache-Control") == "max-age=60"
    assert 'aria-label="module: failed"' in answer.body
    assert f'fill="{BADGE_STATES["failed"]}"' in answer.body
    labelled = get(make_pages(fake), "/rida/badges/mod1/main.svg?label=mod1")
    assert 'aria-label="mod1: failed"' in labelled.body


def test_a_stream_without_builds_gets_a_404_unknown_badge() -> None:
    """No build: 404 with a grey ``unknown`` badge, so READMEs still show one."""
    answer = get(make_pages(FakePages()), "/rida/badges/ghost/main.svg")
    assert answer.code == 404
    assert 'aria-label="module: unknown"' in answer.body
    assert f'fill="{BADGE_STATES["unknown"]}"' in answer.body


def test_badges_fit_their_words() -> None:
    """The halves grow with their text; the message is centred in its half."""
    short, long = state_badge("ready"), state_badge("garbage", "a-long-module-name")
    assert text_width("ready") < text_width("garbage")
    assert long.width > short.width
    assert short.message_x == short.label_width + short.message_width / 2
    assert state_badge("ready", "x" * 100).label == "x" * 40


def test_static_files_are_versioned_by_their_hash() -> None:
    """The page names the files with ``?v=<hash>``; asked so, they may be
    cached for a year; asked otherwise, revalidated; others are 404."""
    client = make_pages(FakePages(pages={7: three_batches()}))
    page = parse(get(client, "/builds/7").body)
    (stylesheet,) = page.find("link", rel="stylesheet")
    css = get(client, stylesheet.attrs["href"] or "")
    assert css.header("Content-Type") == "text/css; charset=utf-8"
    assert "immutable" in (css.header("Cache-Control") or "")
    (script,) = page.find("script")
    js = get(client, (script.attrs["src"] or "").split("?")[0])
    assert js.header("Content-Type") == "text/javascript; charset=utf-8"
    assert js.header("Cache-Control") == "no-cache"
    assert "EventSource" in js.body
    assert get(client, "/static/nothing.css").code == 404


def test_every_text_colour_meets_wcag_aa_on_its_background() -> None:
    """Page text, links, states on their labels, the live indicator and the
    badges: each pair at least 4.5:1."""
    pairs = [(PAGE[fg], PAGE[bg], f"{fg} on {bg}") for fg, bg in TEXT_ON_BACKGROUND]
    pairs += [(fg, bg, f"state {name}") for name, (fg, bg) in STATES.items()]
    pairs += [
        (fg, PAGE["background"], f"state {n} on the page")
        for n, (fg, _) in STATES.items()
    ]
    pairs += [(BADGE_TEXT, c, f"badge {name}") for name, c in BADGE_STATES.items()]
    pairs.append((BADGE_TEXT, BADGE_LABEL, "badge label"))
    low = [
        (why, round(contrast_ratio(a, b), 2))
        for a, b, why in pairs
        if contrast_ratio(a, b) < AA
    ]
    assert low == []
    assert round(contrast_ratio("#000000", "#ffffff"), 1) == 21.0
    assert contrast_ratio("#777777", "#ffffff") < AA  # the check can fail


def test_the_stylesheet_uses_only_palette_colours() -> None:
    """Every colour in the rendered CSS comes from the palette the contrast
    test checks (and the focus ring shows on the page's background)."""
    css = Renderer().static["style.css"].body.decode()
    known = set(PAGE.values()) | {c for pair in STATES.values() for c in pair}
    assert set(re.findall(r"#[0-9a-fA-F]{6}\b", css)) <= known
    assert re.findall(r"#[0-9a-fA-F]{3}\b", css) == []
    assert contrast_ratio(PAGE["focus"], PAGE["background"]) >= 3


def test_the_site_hands_page_paths_to_the_status_page_and_the_rest_to_the_api() -> None:
    """``/`` alone, ``/builds/...``, ``/static/...`` and ``/rida/badges/...``
    are the status page's; the JSON API keeps ``/rida/...``, ``/health``
    and everything else."""

    class Named(Resource):
        isLeaf = True

        def __init__(self, name: bytes) -> None:
            super().__init__()
            self.name = name

        def render(self, request: Any) -> bytes:
            return self.name

    dispatch = PrefixDispatch(
        default=Named(b"api"), by_prefix=dict.fromkeys(PREFIXES, Named(b"page"))
    )
    client = StubTreq(dispatch)
    from tests.helpers import result_of

    def who(path: str) -> bytes:
        return result_of(client.content(result_of(client.get("http://ridad" + path))))

    for path in (
        "/",
        "/?state=ready",
        "/builds/3",
        "/static/style.css",
        "/rida/badges/a/b.svg",
    ):
        assert who(path) == b"page", path
    for path in (
        "/health",
        "/rida/module-builds/",
        "/rida/openapi.json",
        "/buildsx",
        "/metrics",
    ):
        assert who(path) == b"api", path


def koji_section(**more: Any) -> str:
    return yaml.safe_dump(
        {
            "database": {"dsn": "host=/tmp"},
            "scm": {"rpms_default_repository": "git://h/rpms/"},
            "koji": {"hub": "https://koji.example.org/kojihub", **more},
        }
    )


def test_koji_weburl_is_read_and_checked() -> None:
    """``koji.weburl`` is an http(s) URL, unset by default."""
    assert parse_config(koji_section()).koji.weburl is None
    config = parse_config(koji_section(weburl="https://koji.example.org/koji"))
    assert config.koji.weburl == "https://koji.example.org/koji"
    with pytest.raises(ConfigError) as raised:
        parse_config(koji_section(weburl="koji.example.org"))
    assert raised.value.messages == ["koji.weburl: must be an http:// or https:// URL"]
