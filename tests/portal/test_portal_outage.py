"""The portal's own database out of reach: a page answers the Chinese error page (503 with
Retry-After), not problem+json, while /readyz (read by machines) still answers problem+json.
The portal runs in this process, reaching the real PostgreSQL through a TCP relay the test then
closes (the database itself stays up for everyone else; nothing is mocked)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from linli.config import Settings
from linli.http import POOL
from services.portal import service
from services.portal.app import create_app as portal_app
from services.portal.models import Identity, PortalConfig
from services.portal.web import COOKIE
from tests.conftest import AppFactory


@contextlib.asynccontextmanager
async def relay(host: str, port: int) -> AsyncIterator[tuple[int, asyncio.Event]]:
    """A TCP relay to host:port; yields its port and an event that, once set, closes the relay
    and cuts every connection through it (the database unreachable from here on)."""
    cut, pipes = asyncio.Event(), set[asyncio.Task[None]]()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def joined(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, port)
        both = [asyncio.create_task(pipe(reader, up_writer)),
                asyncio.create_task(pipe(up_reader, writer))]
        pipes.update(both)
        await asyncio.gather(*both, return_exceptions=True)

    server = await asyncio.start_server(joined, "127.0.0.1", 0)

    async def closing() -> None:
        await cut.wait()
        server.close()
        for task in pipes:
            task.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)

    closer = asyncio.create_task(closing())
    try:
        yield server.sockets[0].getsockname()[1], cut
    finally:
        cut.set()
        await closer
        await server.wait_closed()


async def test_a_page_without_the_portals_database_is_the_chinese_error_page(
        serve: AppFactory, settings: Settings, tmp_path: Path) -> None:
    cfg = PortalConfig(media_dir=tmp_path / "media", memberships_fresh_seconds=3600)
    database = urlsplit(settings.database_url)
    async with relay(database.hostname or "127.0.0.1", database.port or 5432) as (port, cut):
        netloc = database.netloc.rsplit("@", 1)
        at = f"{netloc[0]}@127.0.0.1:{port}" if len(netloc) == 2 else f"127.0.0.1:{port}"
        relayed = urlunsplit(database._replace(netloc=at))
        client = await serve(lambda s: portal_app(s.with_overrides(database_url=relayed),
                                                  config=cfg))
        person = Identity(person_id=uuid.uuid4(), name="郑居民", memberships=[])
        token, _ = await service.open_session(client.app[POOL], cfg, person)
        base = str(client.make_url("")).rstrip("/")
        async with aiohttp.ClientSession(cookies={COOKIE: token}) as browser:
            async with browser.get(base + "/inbox", allow_redirects=False) as r:
                assert r.status != 503, await r.text()  # the session is read: signed in
            cut.set()  # the portal's database unreachable from here on
            async with browser.get(base + "/preferences", allow_redirects=False,
                                   headers={"Accept": "text/html"}) as r:
                page = await r.text()
                assert (r.status, r.content_type) == (503, "text/html"), page
                assert r.headers.get("Retry-After", "").isdigit(), dict(r.headers)
                assert '<html lang="zh-CN">' in page and "<h1>服务暂时不可用</h1>" in page, page
                assert "请稍等片刻后刷新页面重试" in page and "Idempotency" not in page, page
            async with browser.get(base + "/readyz") as r:  # for machines: JSON as before
                assert (r.status, r.content_type) == (503, "application/problem+json"), \
                    await r.text()
