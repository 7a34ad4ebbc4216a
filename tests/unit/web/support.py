"""The status page's app over the in-memory stores, asked with StubTreq, and
a reading of its HTML with the standard library's parser."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import treq
from treq.testing import StubTreq
from twisted.internet.task import Clock

from ridad.web.app import StatusPages
from tests.helpers import result_of
from tests.unit.web.pagedata import T0, FakePages

WEBURL = "https://koji.example.org/koji"


@dataclass
class Answer:
    """A response's status, headers and body."""

    code: int
    headers: Any
    body: str

    def header(self, name: str) -> str | None:
        """One header's value."""
        values = self.headers.getRawHeaders(name)
        return values[0] if values else None


def make_pages(fake: FakePages, *, weburl: str | None = WEBURL) -> StubTreq:
    """A client of the status page reading ``fake``, at ``T0`` + 200 s."""
    clock = Clock()
    clock.advance((T0 + timedelta(seconds=200)).timestamp())
    pages = StatusPages(
        builds=fake,  # type: ignore[arg-type]
        pages=fake,  # type: ignore[arg-type]
        clock=clock,
        weburl=lambda: weburl,
        public_url=lambda: "https://ridad.example.org",
    )
    return StubTreq(pages.app.resource())


def get(client: StubTreq, url: str, method: str = "GET") -> Answer:
    """Ask ``url``; the fake stores answer at once."""
    response = result_of(client.request(method, "http://ridad" + url))
    body = result_of(treq.content(response)).decode("utf-8")
    return Answer(code=response.code, headers=response.headers, body=body)


@dataclass
class Element:
    """A start tag: its name and attributes, and the text inside it."""

    tag: str
    attrs: dict[str, str | None]
    text: str = ""


class Page(HTMLParser):
    """The elements of an HTML page, in order, with their text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record an element; void elements hold no text."""
        element = Element(tag, dict(attrs))
        self.elements.append(element)
        if tag not in {"meta", "link", "input", "br", "img", "wbr", "rect", "stop"}:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        """Close the innermost element of that name."""
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                return

    def handle_data(self, data: str) -> None:
        """Text belongs to every open element."""
        for element in self._open:
            element.text += data

    def find(self, tag: str, **attrs: str) -> list[Element]:
        """The elements of ``tag`` whose attributes hold ``attrs``."""
        return [
            e
            for e in self.elements
            if e.tag == tag and all(e.attrs.get(k) == v for k, v in attrs.items())
        ]

    def by_id(self, element_id: str) -> Element:
        """The one element of that id."""
        (found,) = [e for e in self.elements if e.attrs.get("id") == element_id]
        return found


def parse(body: str) -> Page:
    """The page's elements."""
    page = Page()
    page.feed(body)
    page.close()
    return page


def text_of(element: Element) -> str:
    """Its text, spaces collapsed."""
    return " ".join(element.text.split())
