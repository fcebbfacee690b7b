"""Parse the Markdown Syncline writes the way a renderer would (CommonMark with GFM tables), so
tests can hold its tables, images and headings to what a pull-request comment will show."""

from __future__ import annotations

from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token


@dataclass
class ParsedMarkdown:
    headings: list[str] = field(default_factory=list)
    tables: list[list[list[str]]] = field(default_factory=list)  # rows of cells, header first
    images: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


def parse_markdown(text: str) -> ParsedMarkdown:
    """The document's headings, tables, images and links; fails when a table row has more or
    fewer cells than its header (a renderer would silently pad or drop them)."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    lines = text.splitlines()
    parsed = ParsedMarkdown()
    row: list[str] = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            parsed.headings.append(_plain(tokens[index + 1]))
        elif token.type == "table_open":
            parsed.tables.append([])
            assert token.map is not None
            first, last = token.map
            widths = {_cells(line) for line in lines[first:last] if line.strip()}
            assert len(widths) == 1, f"table at line {first + 1} has rows of {sorted(widths)} cells"
        elif token.type == "tr_open":
            row = []
        elif token.type in ("th_open", "td_open"):
            row.append(_plain(tokens[index + 1]))
        elif token.type == "tr_close":
            parsed.tables[-1].append(row)
        elif token.type == "inline":
            for child in token.children or []:
                if child.type == "image":
                    parsed.images.append(str(child.attrs.get("src", "")))
                elif child.type == "link_open":
                    parsed.links.append(str(child.attrs.get("href", "")))
    return parsed


def _plain(inline: Token) -> str:
    """An inline token's text as a reader sees it: code spans without their backticks."""
    kept = ("text", "code_inline", "softbreak")
    return "".join(c.content for c in inline.children or [] if c.type in kept)


def _cells(line: str) -> int:
    """Cells in a table line: as in GFM, every pipe not escaped splits, even inside `code`."""
    inner = line.strip().removeprefix("|").removesuffix("|")
    return 1 + sum(1 for i, c in enumerate(inner) if c == "|" and (i == 0 or inner[i - 1] != "\\"))
