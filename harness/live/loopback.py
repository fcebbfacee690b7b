"""A lean HTTP/1.1 transport for httpx, for the live services' own traffic on loopback.

httpx stays the one client seam (tests still replace the transport); this transport replaces
httpcore under it for the orchestrator's calls and the services' webhooks, where httpcore's
per-request bookkeeping (anyio cancel scopes, a pool that checks every connection's socket
for each request) was half of the orchestrator's CPU (bench/RESULTS.md). Rules:
1. Keep-alive connections per origin, reused last in, first out; one request at a time on each.
2. A request sent on a reused connection that the server had already closed (it closes idle
   ones after a few seconds) is sent again once on a new connection: nothing was read, so the
   server never saw it.
3. Errors are httpx's: `ConnectError` when nothing accepted the connection (safe to retry),
   `ReadTimeout` when no answer came in time, `RemoteProtocolError` when the connection broke
   after the request was sent (it may have been applied).
4. Answers are read whole (the services answer with Content-Length, or close the connection).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
import httpx

DEFAULT_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 2.0

_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class _Answer:
    """httptools' callbacks, collected."""

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.complete = self.keep_alive = False
        self.parser: Any = None

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive()  # it forgets once the message ends


class LoopbackTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self._idle: dict[tuple[str, int], list[_Connection]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        origin = (url.host, url.port or 80)
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        read_timeout = timeouts.get("read") or DEFAULT_TIMEOUT_S
        head = _head(request, await request.aread())
        idle = self._idle.setdefault(origin, [])
        while idle:  # a kept connection first (rule 2)
            connection = idle.pop()
            answer = await self._exchange(connection, head, request, read_timeout, reused=True)
            if answer is not None:
                return self._done(origin, connection, answer, request)
        connection = await _connect(origin, timeouts.get("connect") or CONNECT_TIMEOUT_S, request)
        answer = await self._exchange(connection, head, request, read_timeout, reused=False)
        assert answer is not None
        return self._done(origin, connection, answer, request)

    async def _exchange(
        self,
        connection: _Connection,
        head: bytes,
        request: httpx.Request,
        read_timeout: float,
        reused: bool,
    ) -> tuple[int, _Answer, bool] | None:
        """(status, answer, keep the connection), or None: a kept connection had been closed."""
        reader, writer = connection
        answer = _Answer()
        parser = answer.parser = httptools.HttpResponseParser(answer)
        received = False
        try:
            writer.write(head)
            async with asyncio.timeout(read_timeout):
                while not answer.complete:
                    data = await reader.read(65536)
                    if not data:
                        if received:
                            parser.feed_data(b"")  # a body that ends with the connection
                        break
                    received = True
                    parser.feed_data(data)
        except TimeoutError:
            writer.close()
            raise httpx.ReadTimeout("no answer in time", request=request) from None
        except (OSError, httptools.HttpParserError) as error:
            writer.close()
            if reused and not received:
                return None
            raise httpx.RemoteProtocolError(str(error), request=request) from None
        if not answer.complete:
            writer.close()
            if reused and not received:
                return None
            raise httpx.RemoteProtocolError("the connection closed mid-answer", request=request)
        return parser.get_status_code(), answer, answer.keep_alive

    def _done(
        self,
        origin: tuple[str, int],
        connection: _Connection,
        exchanged: tuple[int, _Answer, bool],
        request: httpx.Request,
    ) -> httpx.Response:
        status, answer, keep = exchanged
        if keep:
            self._idle[origin].append(connection)
        else:
            connection[1].close()
        return httpx.Response(
            status, headers=answer.headers, content=b"".join(answer.body), request=request
        )

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for _, writer in connections:
                writer.close()
        self._idle.clear()


async def _connect(
    origin: tuple[str, int], timeout_s: float, request: httpx.Request
) -> _Connection:
    try:
        async with asyncio.timeout(timeout_s):
            return await asyncio.open_connection(*origin)
    except (OSError, TimeoutError) as error:
        raise httpx.ConnectError(f"cannot connect to {origin[0]}:{origin[1]}: {error}",
                                 request=request) from None  # fmt: skip


def _head(request: httpx.Request, body: bytes) -> bytes:
    lines = [f"{request.method} {request.url.raw_path.decode('ascii')} HTTP/1.1"]
    lines += [f"{name.decode('latin-1')}: {value.decode('latin-1')}"
              for name, value in request.headers.raw]  # fmt: skip
    if "content-length" not in request.headers and body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
