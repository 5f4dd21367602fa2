"""The portal (居民端): residents' pages on their phones, server-rendered, on port 8100.

An app of the other services' public APIs: it signs people in with a one-time code, keeps
their sessions (its only tables) and calls every service with the person's own short-lived
token. Pages work without JavaScript; htmx and a few lines of script enhance them, and the
inbox count and vote turnout stay live over Server-Sent Events.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import aiohttp_jinja2
import jinja2
from aiohttp import web

from linli.app import periodic, service_app
from linli.config import Settings
from services.portal import service
from services.portal.consumers import SUBSCRIPTIONS
from services.portal.desk.common import desk_of
from services.portal.handlers import compound_of
from services.portal.issue_pages import MEDIA
from services.portal.live import STOPPING, UPSTREAMS, stop_live
from services.portal.media import FileMedia, S3Media
from services.portal.menus import centre_tab
from services.portal.models import PortalConfig
from services.portal.routes import PAGES
from services.portal.signed_in import sessions
from services.portal.web import (
    CONFIG,
    HTTP,
    SESSION,
    Page,
    PageHandler,
    html_errors,
    to_sign_in,
)

HERE = Path(__file__).parent
MIGRATIONS = HERE / "migrations"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_time(value: str | dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Every time a person reads is Beijing time."""
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(SHANGHAI).strftime(fmt)


def yuan(fen: int | None) -> str:
    return "" if fen is None else f"{fen / 100:,.2f}"


def guarded(page: Page) -> PageHandler:
    """Enforce the page's access (web.PageAccess) before its handler does any work."""

    async def view(request: web.Request) -> web.StreamResponse:
        if page.access == "dev" and not request.app[CONFIG].dev_login:
            raise web.HTTPNotFound()
        if page.access in ("person", "member", "desk") and request.get(SESSION) is None:
            raise to_sign_in(request)
        if page.access == "member":
            compound_of(request)  # another compound's page is simply not found
        if page.access == "desk":
            desk_of(request)  # a resident finds no desk
        return await page.handler(request)

    return view


async def http_client(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        app[HTTP] = session
        yield


def media_store(cfg: PortalConfig, data_dir: Path) -> FileMedia | S3Media:
    """The bucket when LINLI_PORTAL_S3_BUCKET is set, else files under the data folder."""
    if cfg.media is not None:
        return S3Media(cfg.media)
    return FileMedia(cfg.media_dir or data_dir / "media")


async def media_client(app: web.Application) -> AsyncIterator[None]:
    store = app[MEDIA]
    if isinstance(store, S3Media):
        await store.start()
        yield
        await store.close()
    else:
        yield


def create_app(settings: Settings, *, config: PortalConfig | None = None) -> web.Application:
    cfg = config or PortalConfig.from_env(os.environ)
    # photos come in as multipart forms: the body limit is the photo limit plus the fields
    settings = settings.with_overrides(max_body_bytes=max(settings.max_body_bytes,
                                                         cfg.max_photo_bytes + 256 * 1024))
    app = service_app(name="portal", settings=settings, routes=[], migrations=MIGRATIONS,
                      subscriptions=SUBSCRIPTIONS,
                      contexts=[http_client, periodic("portal-session-sweep", service.sweep,
                                                      every=3600)])
    app.middlewares.extend([html_errors, sessions])
    app[CONFIG], app[STOPPING], app[UPSTREAMS] = cfg, asyncio.Event(), set()
    app[MEDIA] = media_store(cfg, settings.data_dir)
    app.cleanup_ctx.append(media_client)
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"),
                               autoescape=jinja2.select_autoescape(default=True))
    env.filters["cst"] = local_time
    env.filters["cst_day"] = partial(local_time, fmt="%m月%d日 %H:%M")
    env.filters["yuan"] = yuan
    env.globals["centre_tab"] = centre_tab
    app.on_shutdown.append(stop_live)
    app.router.add_static("/static", HERE / "static")
    for page in PAGES:
        app.router.add_route(page.method, page.path, guarded(page))
    return app
