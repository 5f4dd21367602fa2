"""Live parts over Server-Sent Events, from notify's live stream: the unread count, and the one
vote or issue the page shows.

The browser's EventSource cannot send the bearer header, so the portal opens notify's stream
(`/v1/me/inbox/stream`) for the signed-in person with their token and passes on what the page
needs: `unread` from the inbox's events; for a `changed` signal about the page's vote or issue,
the thing read afresh from its owning service with the person's token (`turnout`, `status`,
`closed`). A reconnect hands notify the browser's Last-Event-ID, so a missed notification is
replayed; the page's own part is read afresh on every connect. When notify cannot be reached
the stream answers 503 and the page falls back to `GET /live/poll` every half minute.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response

from linli.http import SETTINGS
from services.portal.signed_in import current_session
from services.portal.vote_pages import turnout_bars
from services.portal.web import (
    CONFIG,
    COOKIE,
    HTTP,
    ApiError,
    api,
    person_token,
    session_of,
)

log = logging.getLogger("linli.portal.live")
STOPPING = web.AppKey("portal.live_stopping", asyncio.Event)
UPSTREAMS: web.AppKey[set[aiohttp.ClientResponse]] = web.AppKey("portal.live_upstreams")
SESSION_CHECK = 15.0  # seconds between two looks at whether the session still holds


@dataclass(frozen=True)
class Watch:
    """The vote or issue the page shows, checked to be one the person may see."""

    kind: str  # "vote" | "issue"
    compound: str
    ident: str
    vote: dict[str, Any] | None = None


async def watch_of(request: web.Request) -> Watch | None:
    """?compound=…&vote=… or &issue=…; 404 for another compound's, a missing one, or a secret
    vote (which shows nothing before it closes)."""
    cid = request.query.get("compound", "")
    kind = next((k for k in ("vote", "issue") if request.query.get(k)), None)
    if kind is None:
        return None
    if session_of(request).membership(cid) is None:
        raise web.HTTPNotFound()
    ident = request.query[kind]
    if kind == "vote":
        vote: dict[str, Any] = await api(request, "meetings", cid).get(
            f"/v1/compounds/{cid}/votes/{ident}")
        if vote["secret"]:
            raise web.HTTPNotFound()
        return Watch("vote", cid, ident, vote)
    await api(request, "issues", cid).get(f"/v1/compounds/{cid}/issues/{ident}")
    return Watch("issue", cid, ident)


async def look(request: web.Request, watch: Watch) -> tuple[str, str]:
    """The watched thing as it is now: (event, data) for the page."""
    if watch.kind == "vote":
        assert watch.vote is not None
        base = f"/v1/compounds/{watch.compound}/votes/{watch.ident}"
        numbers = await api(request, "meetings", watch.compound).get(f"{base}/turnout")
        if numbers["status"] != "open":
            return "closed", numbers["status"]
        return "turnout", json.dumps(turnout_bars(numbers, watch.vote), ensure_ascii=False)
    issue = await api(request, "issues", watch.compound).get(
        f"/v1/compounds/{watch.compound}/issues/{watch.ident}")
    return "status", json.dumps({"status": issue["status"], "label": issue["status_label"],
                                 "cosigns": issue["cosign_count"]}, ensure_ascii=False)


async def stream(request: web.Request) -> web.StreamResponse:
    """The page's live stream, proxied from notify's for the signed-in person."""
    session_of(request)
    watch = await watch_of(request)
    upstream = await _open_upstream(request)
    request.app[UPSTREAMS].add(upstream)
    try:
        async with sse_response(request, headers={"Cache-Control": "no-store"},
                                ping_interval=SESSION_CHECK) as sse:
            if watch is not None:
                await _send(sse, await look(request, watch))
            await _relay(request, upstream, sse, watch)
        return sse
    finally:
        request.app[UPSTREAMS].discard(upstream)
        upstream.close()


async def _open_upstream(request: web.Request) -> aiohttp.ClientResponse:
    headers = {"Authorization": f"Bearer {person_token(request, session_of(request))}",
               "Accept": "text/event-stream"}
    if last := request.headers.get("Last-Event-ID"):
        headers["Last-Event-ID"] = last[:20]
    url = request.app[SETTINGS].service_url("notify") + "/v1/me/inbox/stream"
    try:
        upstream = await request.app[HTTP].get(url, headers=headers, timeout=aiohttp.ClientTimeout(
            total=None, connect=5, sock_connect=5, sock_read=None))
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("notify's live stream unavailable: %s", exc)
        raise web.HTTPServiceUnavailable(text="实时更新暂不可用") from None
    if upstream.status != 200:
        upstream.close()
        log.warning("notify's live stream answered %s", upstream.status)
        raise web.HTTPServiceUnavailable(text="实时更新暂不可用")
    return upstream


async def _relay(request: web.Request, upstream: aiohttp.ClientResponse,
                 sse: EventSourceResponse, watch: Watch | None) -> None:
    """Until notify ends the stream, the browser leaves, the session ends or the portal stops."""
    token, checked = request.cookies.get(COOKIE, ""), time.monotonic()
    event: dict[str, str] = {}
    stopping = request.app[STOPPING]
    while sse.is_connected() and not stopping.is_set():
        try:
            raw = await asyncio.wait_for(upstream.content.readline(), timeout=SESSION_CHECK)
        except TimeoutError:
            raw = b":\n"  # nothing from notify for a while: still look at the session
        except (aiohttp.ClientError, ConnectionError, ValueError):  # ValueError: a line too long
            return
        if not raw:
            return  # notify ended the stream: the browser reconnects with its Last-Event-ID
        if time.monotonic() - checked > SESSION_CHECK:
            checked = time.monotonic()
            if not await _still_holds(request, token, watch):
                await sse.send("expired", event="session")
                return
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if line:
            _field(event, line)
            continue
        if event.get("data") is not None:
            await _pass_on(request, sse, watch, event)
        event = {}


async def _still_holds(request: web.Request, token: str, watch: Watch | None) -> bool:
    """The session still lives and, with its memberships read afresh (signed_in.py), still
    belongs to the watched thing's compound: one who moved out stops getting its turnout."""
    session = await current_session(request, token)
    if session is None:
        return False
    return watch is None or session.membership(watch.compound) is not None


def _field(event: dict[str, str], line: str) -> None:
    if line.startswith(":"):
        return  # a comment (notify's ping)
    name, _, value = line.partition(":")
    value = value.removeprefix(" ")
    if name == "data":
        event["data"] = f"{event['data']}\n{value}" if "data" in event else value
    elif name in ("event", "id"):
        event[name] = value


async def _pass_on(request: web.Request, sse: EventSourceResponse, watch: Watch | None,
                   event: dict[str, str]) -> None:
    kind = event.get("event", "message")
    try:
        data = json.loads(event["data"])
    except ValueError:
        return
    if kind in ("unread", "notification") and isinstance(data, dict) and "unread" in data:
        await sse.send(str(data["unread"]), event="unread", id=event.get("id") or None)
    elif kind == "changed" and watch is not None and isinstance(data, dict):
        if data.get("kind") == watch.kind and data.get("id") == watch.ident:
            try:
                await _send(sse, await look(request, watch))
            except ApiError as exc:  # the service blinked: the next signal looks again
                log.warning("live %s %s not read: %s", watch.kind, watch.ident, exc.detail)


async def _send(sse: EventSourceResponse, found: tuple[str, str]) -> None:
    await sse.send(found[1], event=found[0])


async def poll(request: web.Request) -> web.StreamResponse:
    """The same parts as one JSON answer, for a page whose live stream failed."""
    session_of(request)
    watch = await watch_of(request)
    found: dict[str, Any] = {"every": request.app[CONFIG].live_poll_seconds}
    try:  # notify down (the likely reason the stream failed) must not stop the page's part
        page = await api(request, "notify").get("/v1/me/inbox?unread=true&limit=100")
        found["unread"] = f"{len(page['items'])}{'+' if page['next_cursor'] else ''}"
    except ApiError:
        pass
    if watch is not None:
        event, data = await look(request, watch)
        found[event] = data
    return web.json_response(found, headers={"Cache-Control": "no-store"})


async def stop_live(app: web.Application) -> None:
    """on_shutdown: end every open stream (closing its upstream ends its relay)."""
    app[STOPPING].set()
    for upstream in list(app.get(UPSTREAMS, ())):
        upstream.close()
