"""Meetings: upcoming, published minutes, the calendar to subscribe to."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
from typing import Any

from aiohttp import web

from linli.auth import issue_token, same_secret
from linli.http import RETRY_AFTER_SECONDS, SETTINGS
from services.portal.handlers import compound_of
from services.portal.signed_in import identity_now
from services.portal.web import HTTP, Api, ApiError, api, render, session_of


def calendar_signature(secret: str, person_id: str, compound_id: str) -> str:
    """The calendar link works without a session (calendar apps have none), so it is signed."""
    message = f"calendar:{person_id}:{compound_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


async def meetings(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    cid = str(c.compound_id)
    client = api(request, "meetings", cid)
    items = await client.get_all(f"/v1/compounds/{cid}/meetings")
    now = dt.datetime.now(dt.UTC).isoformat()
    upcoming = sorted((m for m in items if m["starts_at"] >= now and m["status"] != "cancelled"),
                      key=lambda m: m["starts_at"])
    recent = sorted(items, key=lambda m: m["starts_at"], reverse=True)[:20]
    minutes = await asyncio.gather(*(_published(client, cid, m) for m in recent))
    session = session_of(request)
    sig = calendar_signature(request.app[SETTINGS].jwt_secret, str(session.person_id), cid)
    feed = f"/calendar/{session.person_id}/{cid}/{sig}.ics"
    return render(request, "meetings.html", {
        "compound": c, "upcoming": upcoming, "feed": feed,
        "published": [(m, x) for m, x in zip(recent, minutes, strict=True) if x]})


async def _published(client: Api, cid: str, meeting: dict[str, Any]) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = await client.get(f"/v1/compounds/{cid}/meetings/{meeting['id']}/minutes")
    except ApiError:
        return None
    return found if found.get("published_at") else None


async def _belongs(request: web.Request, person: str, cid: str) -> bool:
    """The link's person still belongs to the compound, as the directory says now: the link
    outlives every session, and one who moved out no longer reads its meetings through it."""
    try:  # as short a wait as a session's re-read: a hung directory holds no calendar 15 s
        who = await identity_now(request, person)
    except ApiError as exc:
        if exc.status == 404:
            return False
        # a calendar app reads the header, not the page: it tries again later by itself
        raise web.HTTPServiceUnavailable(text="暂时无法确认订阅人的登记信息, 请稍后再试",
                                         headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from None
    return any(str(m.compound_id) == cid for m in who.memberships)


async def calendar(request: web.Request) -> web.StreamResponse:
    person, cid, sig = (request.match_info[k] for k in ("person_id", "compound_id", "signature"))
    secret = request.app[SETTINGS].jwt_secret
    if not same_secret(sig, calendar_signature(secret, person, cid)):
        raise web.HTTPNotFound()
    if not await _belongs(request, person, cid):
        raise web.HTTPNotFound()
    token = issue_token(secret, subject=person, roles=["resident"], compounds=[cid], ttl_seconds=60)
    client = Api(request.app[HTTP], base_url=request.app[SETTINGS].service_url("meetings"), token=token)
    body, status = await client.fetch("GET", f"/v1/compounds/{cid}/meetings.ics")
    if status != 200:
        raise web.HTTPNotFound()
    return web.Response(body=body, content_type="text/calendar", charset="utf-8")
