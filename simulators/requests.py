"""What each operation accepts: its fields, their types and ranges, checked before it runs.

Base rule 1 says a refused request changes nothing. A refusal found halfway through an
operation can break that (an ID drawn, a contract written, then a field that does not parse),
so every operation declares its request here and `Request.problem` judges it before the
operation reads a field. Rules:

1. A field is text (valid Unicode, a length bound, optionally one of a fixed set), a whole
   number in a range (a JSON integer: `2.7` is not a quantity and `true` is not a version), a
   finite number in a range, a list of texts, or the lines of an order (SKU and quantity).
2. A required field must be present and not null; an optional one may be absent or null.
   A query's `Match` is an object of field names and the values they must equal.
3. Fields a request does not declare are ignored, as vendors ignore fields they do not know
   (the HTTP edge has already refused what is not strict JSON: `simulators.wire`).
4. The same declaration is the operation's JSON Schema in the service's OpenAPI document.

The answer to a bad request is `invalid_request` (400) with one sentence naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Bounds a vendor would hold: quantities, versions, money in minor units (under 2**53, so a
#: JavaScript client reads it exactly), time in seconds, lists.
MAX_QUANTITY = 1_000_000
MAX_VERSION = 1_000_000_000
MAX_MONEY = 10**15
MAX_SECONDS = 10.0**11
MAX_ITEMS = 1_000
#: The longest text a line's or a query's other fields may hold.
SHORT_TEXT = 256


def unicode_text(text: str) -> bool:
    """Whether `text` is Unicode text (no lone surrogate, which no file or wire can carry)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Text:
    max_length: int = 64
    min_length: int = 1
    choices: tuple[str, ...] = ()

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return "must be text"
        if not self.min_length <= len(value) <= self.max_length:
            return f"must be {self.min_length} to {self.max_length} characters"
        if self.choices and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}"
        if not unicode_text(value):
            return "must be Unicode text (it holds a lone surrogate)"
        return None

    def schema(self) -> dict[str, Any]:
        found: dict[str, Any] = {"type": "string", "minLength": self.min_length,
                                 "maxLength": self.max_length}  # fmt: skip
        if self.choices:
            found["enum"] = list(self.choices)
        return found


@dataclass(frozen=True, slots=True)
class Whole:
    """A whole number: a JSON integer in [minimum, maximum]."""

    minimum: int
    maximum: int

    def problem(self, value: Any) -> str | None:
        if type(value) is not int:
            return "must be a whole number"
        if not self.minimum <= value <= self.maximum:
            return f"must be between {self.minimum} and {self.maximum}"
        return None

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


@dataclass(frozen=True, slots=True)
class Number:
    """A finite number in [minimum, maximum] (seconds of scenario time, mostly)."""

    minimum: float = -MAX_SECONDS
    maximum: float = MAX_SECONDS

    def problem(self, value: Any) -> str | None:
        if type(value) not in (int, float):
            return "must be a number"
        if not self.minimum <= value <= self.maximum:  # NaN fails this too
            return f"must be between {self.minimum:g} and {self.maximum:g}"
        return None

    def schema(self) -> dict[str, Any]:
        return {"type": "number", "minimum": self.minimum, "maximum": self.maximum}


@dataclass(frozen=True, slots=True)
class Texts:
    item: Text = Text(128)
    max_items: int = 50

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, list) or len(value) > self.max_items:
            return f"must be a list of at most {self.max_items} texts"
        for item in value:
            found = self.item.problem(item)
            if found is not None:
                return f"items {found}"
        return None

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "maxItems": self.max_items, "items": self.item.schema()}


SKU = Text(64)
QUANTITY = Whole(1, MAX_QUANTITY)
SCALAR = (str, int, float, bool, type(None))
_PLAIN_SCALARS = frozenset({int, float, bool, type(None)})


def _plain_line(line: Any) -> bool:
    """Whether an order line passes `Lines.problem` without a doubt: exact types, an ASCII SKU
    (so valid Unicode), every value plain. False sends the line to the full check, which has
    the last word and the sentence."""
    if type(line) is not dict:
        return False
    sku, quantity = line.get("sku"), line.get("quantity")
    if type(sku) is not str or not SKU.min_length <= len(sku) <= SKU.max_length:
        return False
    if not sku.isascii():
        return False
    if type(quantity) is not int or not QUANTITY.minimum <= quantity <= QUANTITY.maximum:
        return False
    for inner in line.values():
        kind = type(inner)
        if kind is str:
            if len(inner) > SHORT_TEXT:
                return False
        elif kind not in _PLAIN_SCALARS:
            return False
    return True


@dataclass(frozen=True, slots=True)
class Lines:
    """An order's lines: objects with a `sku` and a whole `quantity`; other keys (a product's
    `kind`) hold text or numbers."""

    max_items: int = 200

    def problem(self, value: Any) -> str | None:
        if type(value) is list and len(value) <= self.max_items and all(map(_plain_line, value)):
            return None  # the common case, judged at once
        return self.explained(value)

    def explained(self, value: Any) -> str | None:
        """The full check: what is wrong with `value`, in one sentence, or None."""
        if not isinstance(value, list) or len(value) > self.max_items:
            return f"must be a list of at most {self.max_items} lines"
        for index, line in enumerate(value):
            if not isinstance(line, dict):
                return f"[{index}] must be an object with a sku and a quantity"
            for name, kind in (("sku", SKU), ("quantity", QUANTITY)):
                found = kind.problem(line.get(name))
                if found is not None:
                    return f"[{index}].{name} {'is required' if name not in line else found}"
            for key, inner in line.items():
                too_long = isinstance(inner, str) and len(inner) > SHORT_TEXT
                if not isinstance(inner, SCALAR) or too_long:
                    return f"[{index}].{key} must be a number or a short text"
        return None

    def schema(self) -> dict[str, Any]:
        line = {
            "type": "object", "required": ["sku", "quantity"],
            "properties": {"sku": SKU.schema(), "quantity": QUANTITY.schema(),
                           "kind": Text(32, 0).schema()},
        }  # fmt: skip
        return {"type": "array", "maxItems": self.max_items, "items": line}


@dataclass(frozen=True, slots=True)
class Match:
    """Field values a query matches exactly: an object of at most `max_items` names, each a
    number, a short text, true, false or null (what a vendor's list filter or a `WHERE a = b`
    can say)."""

    max_items: int = 10

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, dict) or len(value) > self.max_items:
            return f"must be an object of at most {self.max_items} fields"
        for name, inner in value.items():
            if len(name) > 64:
                return "names must be at most 64 characters"
            if not isinstance(inner, SCALAR) or (
                isinstance(inner, str) and len(inner) > SHORT_TEXT
            ):
                return f"{name} must be a number, a short text, true, false or null"
            if isinstance(inner, float) and not math.isfinite(inner):
                return f"{name} must be finite"
        return None

    def schema(self) -> dict[str, Any]:
        scalar = {"anyOf": [{"type": "string", "maxLength": SHORT_TEXT}, {"type": "number"},
                            {"type": "boolean"}, {"type": "null"}]}  # fmt: skip
        return {"type": "object", "maxProperties": self.max_items, "additionalProperties": scalar}


Field = Text | Whole | Number | Texts | Lines | Match


@dataclass(frozen=True, slots=True)
class Request:
    """An operation's request: its fields, and which of them it cannot do without."""

    fields: Mapping[str, Field]
    required: frozenset[str] = frozenset()

    def problem(self, payload: Any) -> str | None:
        """Why the request cannot be applied, in one sentence (None: it is well formed)."""
        if not isinstance(payload, Mapping):
            return "the request must be a JSON object"
        for name in self.required:
            if payload.get(name) is None:
                return f"{name} is required"
        for name, kind in self.fields.items():
            value = payload.get(name)
            if value is None:
                continue
            found = kind.problem(value)
            if found is not None:
                return f"{name}{'' if found.startswith('[') else ' '}{found}"
        return None

    def schema(self) -> dict[str, Any]:
        """The request as JSON Schema (rule 4): declared fields, nullable when optional."""
        properties: dict[str, Any] = {}
        for name, kind in self.fields.items():
            described = kind.schema()
            properties[name] = (
                described if name in self.required else {"anyOf": [described, {"type": "null"}]}
            )
        found: dict[str, Any] = {"type": "object", "properties": properties}
        if self.required:
            found["required"] = sorted(self.required)
        return found


def request(required: Mapping[str, Field] | None = None, **optional: Field) -> Request:
    """`request({"quote_id": ID}, approver=Text(128))`: required fields first, then optional."""
    required = dict(required or {})
    return Request({**required, **optional}, frozenset(required))


#: The fields most operations share.
ID = Text(64)
VERSION = Whole(1, MAX_VERSION)
MONEY = Whole(-MAX_MONEY, MAX_MONEY)
CURRENCY = Text(3, 3)
TERM = Whole(1, 120)
LINES = Lines()
LIMIT = Whole(1, 10_000)
SECONDS = Number()
