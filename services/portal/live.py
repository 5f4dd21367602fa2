"""Live parts over Server-Sent Events: the inbox's unread count and a vote's turnout.

Each stream looks at the owning service's API with the person's token every `live_every`
seconds and sends only what changed; it ends when the person's session does, when the browser
goes away, or when the portal stops.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp_sse import sse_response

from linli.http import POOL
from services.portal import service
from services.portal.handlers import compound_of
from services.portal.vote_pages import turnout_bars
from services.portal.web import CONFIG, COOKIE, ApiError, api, session_of

STOPPING = web.AppKey("portal.live_stopping", asyncio.Event)
Probe = Callable[[], Awaitable[tuple[str, str] | None]]


async def stream(request: web.Request, probe: Probe) -> web.StreamResponse:
    """Send (event, data) from `probe` whenever it changes; None ends the stream."""
    stopping, every = request.app[STOPPING], request.app[CONFIG].live_every
    token = request.cookies.get(COOKIE, "")
    async with sse_response(request, headers={"Cache-Control": "no-store"}) as sse:
        last: tuple[str, str] | None = None
        while sse.is_connected() and not stopping.is_set():
            if await service.find_session(request.app[POOL], token) is None:
                await sse.send("expired", event="session")
                break
            try:
                now = await probe()
            except ApiError:
                now = last  # the service blinked: keep showing what we had
            if now is None:
                break
            if now != last:
                await sse.send(now[1], event=now[0])
                last = now
            try:
                await asyncio.wait_for(stopping.wait(), timeout=every)
            except TimeoutError:
                pass
    return sse


async def inbox_count(request: web.Request) -> web.StreamResponse:
    session_of(request)

    async def probe() -> tuple[str, str]:
        page = await api(request, "notify").get("/v1/me/inbox?unread=true&limit=100")
        count = f"{len(page['items'])}{'+' if page['next_cursor'] else ''}"
        return "unread", count

    return await stream(request, probe)


async def turnout(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    cid, vid = str(c.compound_id), request.match_info["vote_id"]
    base = f"/v1/compounds/{cid}/votes/{vid}"
    vote: dict[str, Any] = await api(request, "meetings", cid).get(base)
    if vote["secret"]:
        raise web.HTTPNotFound()  # a secret vote shows nothing before it closes

    async def probe() -> tuple[str, str]:
        numbers = await api(request, "meetings", cid).get(f"{base}/turnout")
        if numbers["status"] != "open":
            return "closed", numbers["status"]
        return "turnout", json.dumps(turnout_bars(numbers, vote), ensure_ascii=False)

    return await stream(request, probe)


async def issue_status(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    cid, iid = str(c.compound_id), request.match_info["issue_id"]
    path = f"/v1/compounds/{cid}/issues/{iid}"
    await api(request, "issues", cid).get(path)  # another compound's or no such issue: 404

    async def probe() -> tuple[str, str]:
        issue = await api(request, "issues", cid).get(path)
        return "status", json.dumps({"status": issue["status"], "label": issue["status_label"],
                                     "cosigns": issue["cosign_count"]}, ensure_ascii=False)

    return await stream(request, probe)
