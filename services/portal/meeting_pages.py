"""Meetings (upcoming, published minutes, the calendar to subscribe to) and my bills."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
from typing import Any

from aiohttp import web

from linli.auth import issue_token
from linli.http import SETTINGS
from services.portal.handlers import compound_of
from services.portal.models import Membership
from services.portal.web import HTTP, Api, ApiError, api, render, session_of

METHODS = {"equal": "按户平均分摊", "area": "按专有部分面积分摊", "usage": "按计量用量分摊 (谁受益谁承担)",
           "floor_band": "按楼层段分摊", "weighted": "多种方式加权分摊"}


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


async def calendar(request: web.Request) -> web.StreamResponse:
    person, cid, sig = (request.match_info[k] for k in ("person_id", "compound_id", "signature"))
    secret = request.app[SETTINGS].jwt_secret
    if not hmac.compare_digest(sig, calendar_signature(secret, person, cid)):
        raise web.HTTPNotFound()
    token = issue_token(secret, subject=person, roles=["resident"], compounds=[cid], ttl_seconds=60)
    client = Api(request.app[HTTP], base_url=request.app[SETTINGS].service_url("meetings"), token=token)
    body, status = await client.fetch("GET", f"/v1/compounds/{cid}/meetings.ics")
    if status != 200:
        raise web.HTTPNotFound()
    return web.Response(body=body, content_type="text/calendar", charset="utf-8")


async def bills(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    cid = str(c.compound_id)
    client = api(request, "meetings", cid)
    mine = {str(u.id): u.label for u in c.units}
    costs = [k for k in await client.get_all(f"/v1/compounds/{cid}/costs")
             if any(str(u["unit_id"]) in mine for u in k["units"])]
    found = await asyncio.gather(*(_my_lines(client, cid, k, c) for k in costs))
    return render(request, "bills.html", {"compound": c, "costs": found})


async def _my_lines(client: Api, cid: str, cost: dict[str, Any], c: Membership) -> dict[str, Any]:
    base = f"/v1/compounds/{cid}/costs/{cost['id']}"
    bills, plans = await asyncio.gather(client.get_all(f"{base}/bills"),
                                        client.get_all(f"{base}/plans"))
    plan_of = {p["id"]: p for p in plans}
    mine = {str(u.id): u.label for u in c.units}
    units = {str(u["unit_id"]): u for u in cost["units"]}
    rows = []
    for bill in bills:
        plan = plan_of.get(bill["plan_id"], {})
        method = plan.get("method", {})
        for line in bill["lines"]:
            if str(line["unit_id"]) in mine:
                unit = units.get(str(line["unit_id"]), {})
                rows.append({"period": bill["period"], "total": bill["total_fen"],
                             "amount": line["amount_fen"], "unit": mine[str(line["unit_id"])],
                             "plan": plan.get("name", ""),
                             "method": METHODS.get(method.get("method", ""), method.get("method", "")),
                             "area": unit.get("area_centi"), "units": len(bill["lines"])})
    return {"cost": cost, "rows": rows}
