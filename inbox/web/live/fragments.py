"""One element out of a rendered partial, so that one template serves both a page and the
live push of a single entry of it."""

from __future__ import annotations

import itertools
from html.parser import HTMLParser


class _ElementFinder(HTMLParser):
    """Where the element with one id starts and ends in rendered HTML."""

    def __init__(self, element_id: str) -> None:
        super().__init__(convert_charrefs=False)
        self.element_id = element_id
        self.tag = ""
        self.depth = 0
        self.start: tuple[int, int] | None = None
        self.end: tuple[int, int] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.end is not None:
            return
        if self.start is None and ("id", self.element_id) in attrs:
            self.tag, self.start, self.depth = tag, self.getpos(), 1
        elif self.start is not None and tag == self.tag:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.start is not None and self.end is None and tag == self.tag:
            self.depth -= 1
            if self.depth == 0:
                self.end = self.getpos()


def element_by_id(html: str, element_id: str) -> str | None:
    """The outer HTML of one element of a rendered partial, so that one partial serves both
    the page and the push of a single entry."""
    finder = _ElementFinder(element_id)
    finder.feed(html)
    if finder.start is None or finder.end is None:
        return None
    line_starts = [0, *itertools.accumulate(len(line) for line in html.splitlines(True))]
    start = line_starts[finder.start[0] - 1] + finder.start[1]
    end = html.index(">", line_starts[finder.end[0] - 1] + finder.end[1]) + 1
    return html[start:end]
