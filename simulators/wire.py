"""Request bodies as they arrive over HTTP: bounded, strict JSON, before anything acts on them.

Every live service and the orchestrator read bodies through here. Rules:

1. Size: a body over `Limits.body_bytes` is refused (413) from its Content-Length, before it
   is read, or as soon as more than that has arrived; headers over `Limits.header_bytes` in
   all are refused (431). Defaults are a real gateway's: 1 MiB of body (Salesforce's composite
   limit is 6 MB, Zendesk's 1 MB per ticket), 16 KiB of headers (nginx's 4 x 8 KiB buffers,
   Cloudflare's 32 KiB).
2. JSON as RFC 8259 has it: `NaN` and `Infinity` are not JSON, and a number too large for a
   double (`1e400`) is refused rather than read as infinity.
3. Nesting at most `MAX_DEPTH` levels, and strings that are Unicode (an escaped lone surrogate,
   `"\\ud800"`, cannot be written anywhere and is refused).

A refusal is a `Malformed` with one sentence; the caller answers 400 with it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

#: Deeper than any vendor's request or event (Salesforce's composite graph nests 5 levels).
MAX_DEPTH = 32


class Malformed(ValueError):
    """A body that is not the strict JSON a service accepts; the message says why."""


@dataclass(frozen=True, slots=True)
class Limits:
    """How much a service reads of one request (rule 1)."""

    body_bytes: int = 1024 * 1024
    header_bytes: int = 16 * 1024

    def __repr__(self) -> str:
        return f"limits(body={self.body_bytes}B, headers={self.header_bytes}B)"


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Malformed(f"the number {text[:20]} is too large")
    return value


def _constant(name: str) -> Any:
    raise Malformed(f"{name} is not a JSON number")


def decode(raw: bytes) -> Any:
    """The JSON value of `raw` under rules 2 and 3, or `Malformed`."""
    try:
        value = json.loads(raw, parse_float=_finite, parse_constant=_constant)
    except Malformed:
        raise
    except RecursionError:
        raise Malformed(f"the body nests deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise Malformed(f"the body is not JSON ({_reason(error)})") from None
    check(value)
    return value


def check(value: Any) -> None:
    """Rule 3 over a decoded value: bounded nesting, strings that are Unicode."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _unicode(item)
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise Malformed(f"the body nests deeper than {MAX_DEPTH} levels")
            if isinstance(item, dict):
                for key, inner in item.items():
                    _unicode(key)
                    pending.append((inner, depth + 1))
            else:
                pending.extend((inner, depth + 1) for inner in item)


def _unicode(text: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Malformed("a string holds a lone surrogate (not Unicode text)") from None


def _reason(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at character {error.pos}"
    return str(error)[:120]
