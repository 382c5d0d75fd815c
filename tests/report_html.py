"""An HTML parser's view of a rendered report, for the structural checks (shared by the report tests)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

MAX_HTML_BYTES = 100 * 1024
_URL = re.compile(r"^(https?:)?//", re.I)


class Page(HTMLParser):
    """Collects tags, attributes, table rows (by table id) and the visible text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.ids: dict[str, str] = {}
        self.text_parts: list[str] = []
        self._stack: list[str | None] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        # [id, tag, index of the first text part, open elements of that tag]
        self._id_open: list[list] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag in ("td", "th", "tr", "p", "h1", "h2", "h3", "div", "table"):
            self.text_parts.append(" ")  # block boundaries separate words, as a browser shows them
        if tag == "table":
            self._stack.append(a.get("id"))
            if a.get("id"):
                self.tables[a["id"]] = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br":
            self.handle_data(" ")
        for open_ in self._id_open:
            if open_[1] == tag:
                open_[3] += 1
        if a.get("id") and tag != "table":
            self._id_open.append([a["id"], tag, len(self.text_parts), 1])

    def handle_endtag(self, tag):
        if tag == "table" and self._stack:
            self._stack.pop()
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            current = self._stack[-1] if self._stack else None
            if current:
                self.tables[current].append(self._row)
            self._row = None
        for open_ in list(self._id_open):
            if open_[1] == tag:
                open_[3] -= 1
                if open_[3] == 0:
                    self.ids[open_[0]] = " ".join("".join(self.text_parts[open_[2]:]).split())
                    self._id_open.remove(open_)

    def handle_data(self, data):
        self.text_parts.append(data)
        if self._cell is not None:
            self._cell.append(data)

    @property
    def text(self) -> str:
        return " ".join("".join(self.text_parts).split())

    def attrs(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]


def email_safety_problems(html: str, page: Page) -> list[str]:
    """What a mail client would block or break: scripts, external URLs, SVG, data: images, size, <style>."""
    problems = []
    tags = {t for t, _ in page.tags}
    for bad in ("script", "svg", "link", "iframe", "object", "embed", "style"):
        if bad in tags:
            problems.append(f"<{bad}> present")
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            if name.startswith("on"):
                problems.append(f"event handler {name} on <{tag}>")
            if name in ("src", "background") and value and (_URL.match(value) or value.lower().startswith("data:")):
                problems.append(f"<{tag} {name}={value[:40]}>")
            if name == "href" and value and tag != "a":
                problems.append(f"href on <{tag}>")
    if re.search(r"url\(", html, re.I):
        problems.append("CSS url()")
    if len(html.encode("utf-8")) >= MAX_HTML_BYTES:
        problems.append(f"{len(html.encode())} bytes")
    return problems


def read(path: Path) -> tuple[str, Page]:
    html = path.read_text(encoding="utf-8")
    return html, Page(html)
