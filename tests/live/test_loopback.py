"""The lean loopback transport answers as httpx's own would: bodies and statuses, kept
connections reused, a kept connection the server closed retried once, and httpx's errors for
a refused connection and a late answer."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from harness.live.loopback import LoopbackTransport


async def serve(answer_after_s: float = 0.0, close_after_each: bool = False):  # type: ignore[no-untyped-def]
    """A tiny HTTP/1.1 server echoing the JSON body; counts the connections it accepted."""
    accepted: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            await exchange(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed the connection
        finally:
            writer.close()

    async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length")), 0)  # fmt: skip
            body = await reader.readexactly(length)
            await asyncio.sleep(answer_after_s)
            echoed = json.dumps({"echo": json.loads(body or b"{}")}).encode()
            writer.write(
                b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(len(echoed)).encode() + b"\r\n\r\n" + echoed
            )
            await writer.drain()
            if close_after_each:
                return

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}", accepted


def test_answers_and_keeps_its_connection() -> None:
    async def scenario() -> tuple[list[int], list[object], int]:
        server, url, accepted = await serve()
        async with httpx.AsyncClient(base_url=url, transport=LoopbackTransport()) as client:
            answers = [await client.post("/v1/op", json={"n": n}) for n in range(3)]
        server.close()
        await server.wait_closed()
        return [a.status_code for a in answers], [a.json()["echo"] for a in answers], len(accepted)

    statuses, bodies, connections = asyncio.run(scenario())
    assert statuses == [201, 201, 201]
    assert bodies == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert connections == 1


def test_a_kept_connection_the_server_closed_is_retried_on_a_new_one() -> None:
    async def scenario() -> tuple[int, int]:
        server, url, accepted = await serve(close_after_each=True)
        async with httpx.AsyncClient(base_url=url, transport=LoopbackTransport()) as client:
            await client.post("/v1/op", json={})
            await asyncio.sleep(0.05)  # the server has closed it by now
            again = await client.post("/v1/op", json={"n": 2})
        server.close()
        await server.wait_closed()
        return again.status_code, len(accepted)

    assert asyncio.run(scenario()) == (201, 2)


def test_refused_and_late_answers_raise_what_httpx_raises() -> None:
    async def scenario() -> None:
        server, url, _ = await serve(answer_after_s=1.0)
        async with httpx.AsyncClient(base_url=url, transport=LoopbackTransport(),
                                     timeout=httpx.Timeout(0.1)) as client:  # fmt: skip
            with pytest.raises(httpx.ReadTimeout):
                await client.post("/v1/op", json={})
        server.close()
        await server.wait_closed()
        async with httpx.AsyncClient(base_url=url, transport=LoopbackTransport()) as client:
            with pytest.raises(httpx.ConnectError):
                await client.post("/v1/op", json={})

    asyncio.run(scenario())
