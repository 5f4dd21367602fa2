"""A lean HTTP/1.1 load generator for requests that each must be sent exactly once (ballots):
keep-alive connections speaking raw asyncio protocols, every request's bytes built before
the clock starts. aiohttp's client cost about as much CPU per request as the service it drove,
on the same two cores; this costs a small fraction of it, so the figures are the service's.
(wrk cannot send each of N distinct requests once and stop.)"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request at a time, its answer's status and body."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        answer = self._answer()
        if answer is not None and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(answer)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionError("connection closed"))

    def _answer(self) -> tuple[int, bytes] | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buffer[:end])
        found = _LENGTH.search(head)
        length = int(found.group(1)) if found else 0
        if len(self.buffer) < end + 4 + length:
            return None
        body = bytes(self.buffer[end + 4:end + 4 + length])
        del self.buffer[:end + 4 + length]
        return int(head[9:12]), body

    async def send(self, request: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


def post_request(url: str, body: bytes, headers: dict[str, str]) -> bytes:
    """The bytes of one POST with a JSON body."""
    parts = urlsplit(url)
    lines = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}",
             "Content-Type: application/json", f"Content-Length: {len(body)}",
             *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Answers:
    """Each request's status and latency (seconds), and how long all of them took."""

    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0


async def send_all(url: str, requests: Sequence[bytes], *, connections: int,
                   rate: float | None = None) -> Answers:
    """Send each request once over `connections` keep-alive connections: flat out (latency
    from sending), or request i due at i/rate seconds (latency from when it was due, so a
    wait for a free connection counts)."""
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    opened = []
    for _ in range(min(connections, len(requests))):
        transport, protocol = await loop.create_connection(
            _Connection, parts.hostname or "127.0.0.1", parts.port or 80)
        opened.append(transport)
        idle.put_nowait(protocol)
    answers = Answers()

    async def one(i: int) -> None:
        if rate is not None:
            await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
        connection = await idle.get()
        begun = started + i / rate if rate is not None else time.perf_counter()
        try:
            status, _ = await connection.send(requests[i])
        finally:
            idle.put_nowait(connection)
        answers.latencies.append(time.perf_counter() - begun)
        answers.statuses[status] = answers.statuses.get(status, 0) + 1

    started = time.perf_counter()
    try:
        await asyncio.gather(*(one(i) for i in range(len(requests))))
    finally:
        answers.seconds = time.perf_counter() - started
        for transport in opened:
            transport.close()
    return answers
