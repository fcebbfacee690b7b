"""The query subset SOQL and SuiteQL share, parsed: what integrations send to look records up.

    SELECT field, Relation__r.Field, ... FROM object
    [WHERE field = value [AND field = value ...]]
    [ORDER BY field [ASC | DESC]] [LIMIT n] [OFFSET n]

Values are 'quoted text' (with \\' escapes), whole or decimal numbers, TRUE, FALSE or NULL.
Keywords are case-insensitive. Anything else (OR, IN, LIKE, comparisons, sub-queries,
aggregates) is refused with a sentence naming what is not supported, so an integration's
query either means what it says here or fails loudly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<text>'(?:[^'\\]|\\.)*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][\w.]*)"
    r"|(?P<symbol>,|=|\*|!=|<>|<=|>=|<|>|\(|\)))"
)


class QueryError(ValueError):
    """A query outside the subset, or malformed; the message says which."""


@dataclass(frozen=True)
class Query:
    fields: tuple[str, ...]
    source: str
    where: tuple[tuple[str, Any], ...] = ()
    order_by: str | None = None
    descending: bool = False
    limit: int | None = None
    offset: int = 0
    #: The text it was parsed from, for locators and error messages.
    text: str = field(default="", compare=False)


def tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise QueryError(f"unexpected text at character {position}: {text[position:][:20]!r}")
        kind = match.lastgroup
        assert kind is not None
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def parse(text: str) -> Query:
    """The query `text`, or QueryError."""
    items = tokens(text)
    reader = _Reader(items)
    reader.keyword("SELECT")
    fields = [reader.name("a field")]
    while reader.peek_symbol(","):
        reader.take()
        fields.append(reader.name("a field"))
    reader.keyword("FROM")
    source = reader.name("an object")
    where: list[tuple[str, Any]] = []
    order_by, descending, limit, offset = None, False, None, 0
    if reader.peek_keyword("WHERE"):
        reader.take()
        while True:
            name = reader.name("a field")
            operator = reader.take()
            if operator != ("symbol", "="):
                raise QueryError(f"only `field = value` conditions are supported, not "
                                 f"{operator[1]!r} after {name}")  # fmt: skip
            where.append((name, reader.value()))
            if not reader.peek_keyword("AND"):
                break
            reader.take()
    if reader.peek_keyword("ORDER"):
        reader.take()
        reader.keyword("BY")
        order_by = reader.name("a field")
        if reader.peek_keyword("ASC") or reader.peek_keyword("DESC"):
            descending = reader.take()[1].upper() == "DESC"
    if reader.peek_keyword("LIMIT"):
        reader.take()
        limit = reader.whole("LIMIT")
    if reader.peek_keyword("OFFSET"):
        reader.take()
        offset = reader.whole("OFFSET")
    if not reader.done():
        raise QueryError(
            f"{reader.take()[1]!r} is not supported here (supported: SELECT ... "
            "FROM ... WHERE a = b AND ... ORDER BY ... LIMIT ... OFFSET ...)"
        )
    return Query(tuple(fields), source, tuple(where), order_by, descending, limit, offset, text)


class _Reader:
    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.items, self.position = items, 0

    def done(self) -> bool:
        return self.position >= len(self.items)

    def take(self) -> tuple[str, str]:
        if self.done():
            raise QueryError("the query ends too soon")
        item = self.items[self.position]
        self.position += 1
        return item

    def peek_keyword(self, word: str) -> bool:
        return (
            not self.done()
            and self.items[self.position][0] == "name"
            and (self.items[self.position][1].upper() == word)
        )

    def peek_symbol(self, symbol: str) -> bool:
        return not self.done() and self.items[self.position] == ("symbol", symbol)

    def keyword(self, word: str) -> None:
        if not self.peek_keyword(word):
            found = self.items[self.position][1] if not self.done() else "the end"
            raise QueryError(f"expected {word}, found {found!r}")
        self.take()

    def name(self, what: str) -> str:
        kind, value = self.take()
        if kind != "name" or value.upper() in ("FROM", "WHERE", "AND", "OR", "ORDER", "LIMIT"):
            raise QueryError(f"expected {what}, found {value!r}")
        return value

    def whole(self, clause: str) -> int:
        kind, value = self.take()
        if kind != "number" or not value.isdigit():
            raise QueryError(f"{clause} takes a whole number, not {value!r}")
        return int(value)

    def value(self) -> Any:
        kind, value = self.take()
        if kind == "text":
            return re.sub(r"\\(.)", r"\1", value[1:-1])
        if kind == "number":
            return float(value) if "." in value else int(value)
        if kind == "name" and value.upper() in ("TRUE", "FALSE", "NULL"):
            return {"TRUE": True, "FALSE": False, "NULL": None}[value.upper()]
        raise QueryError(f"expected a value, found {value!r}")
