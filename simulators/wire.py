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
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from simulators.requests import unicode_text

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
    if not unicode_text(text):
        raise Malformed("a string holds a lone surrogate (not Unicode text)")


def _reason(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at character {error.pos}"
    return str(error)[:120]


Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class TooLarge(Exception):
    """More body arrived than `Limits.body_bytes`."""


class Limited:
    """ASGI middleware for rule 1: headers over the limit are answered 431 and a body whose
    Content-Length is over it 413, before the app sees the request (the body is never read).
    A body sent without a length is counted as it is read (`read_body`)."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        if sum(len(name) + len(value) + 4 for name, value in headers) > self.limits.header_bytes:
            message = f"the request's headers are over {self.limits.header_bytes} bytes"
            await answer(send, 431, "headers_too_large", message)
            return
        for name, value in headers:
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.limits.body_bytes:
                    message = f"the request's body is over {self.limits.body_bytes} bytes"
                    await answer(send, 413, "body_too_large", message)
                    return
                break
        await self.app(scope, receive, send)


async def read_body(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The body from its chunks, or `TooLarge` as soon as more than `limit` bytes arrived."""
    parts, size = [], 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the request's body is over {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


async def answer(send: Send, status: int, code: str, message: str) -> None:
    """A vendor-shaped error answer, straight to the ASGI server."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send({
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})
