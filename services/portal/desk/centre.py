"""The neighbourhood centre at the desk (where the compound runs one): bookings to approve or
decline, the week's calendar per venue, activities with sign-ups and waiting lists, and interest
groups to approve. Each action is one call to the centre service."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from services.portal.desk.common import act, desk_of, has, show
from services.portal.handlers import soft
from services.portal.web import api, form

SHANGHAI = ZoneInfo("Asia/Shanghai")
STAFF = ("community", "party_branch", "owners_committee", "property", "street_office")
WEEKDAYS = "一二三四五六日"


def _week(bookings: list[dict[str, Any]], venues: dict[str, str],
          offset: int) -> tuple[list[dict[str, Any]], list[str]]:
    """A week's confirmed and pending bookings (this one, or `offset` weeks away), by venue and
    day (Beijing time)."""
    today = dt.datetime.now(SHANGHAI).date()
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=offset)
    days = [monday + dt.timedelta(days=n) for n in range(7)]
    grid: dict[str, dict[dt.date, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for b in bookings:
        day = dt.datetime.fromisoformat(b["starts_at"]).astimezone(SHANGHAI).date()
        if b["status"] in ("confirmed", "pending") and day in days:
            grid[b["venue_id"]][day].append(b)
    rows = [{"venue": name, "days": [grid[vid][d] for d in days]} for vid, name in venues.items()]
    return rows, [f"周{WEEKDAYS[d.weekday()]} {d.month}/{d.day}" for d in days]


async def centre(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid = str(m.compound_id)
    client = api(request, "centre", cid)
    base = f"/v1/compounds/{cid}"
    venues, pending, booked, activities, groups = await asyncio.gather(
        soft(client.get_all(f"{base}/venues")),
        soft(client.get(f"{base}/bookings?status=pending&limit=50")),
        soft(client.get(f"{base}/bookings?limit=100")), soft(client.get(f"{base}/activities?limit=20")),
        soft(client.get_all(f"{base}/interest-groups")))
    if venues is None:
        return show(request, "desk/centre.html", {"absent": True})
    names = {v["id"]: v["name"] for v in venues}
    raw = request.query.get("week", "0")
    offset = int(raw) if raw.lstrip("-").isdigit() and abs(int(raw)) <= 52 else 0
    week, heads = _week((booked or {}).get("items", []), names, offset)
    return show(request, "desk/centre.html", {
        "absent": False, "venues": names, "pending": (pending or {}).get("items", []),
        "week": week, "heads": heads, "offset": offset, "activities": (activities or {}).get("items", []),
        "groups": [g for g in groups or [] if g["status"] == "proposed"],
        "staff": has(m, *STAFF)})


async def booking_action(request: web.Request) -> web.StreamResponse:
    """approve / decline one booking."""
    m = desk_of(request)
    cid, bid, action = str(m.compound_id), request.match_info["booking_id"], request.match_info["action"]
    data = await form(request)
    body = {"reason": str(data.get("reason", "")).strip()} if action == "decline" else None
    call = api(request, "centre", cid).post(f"/v1/compounds/{cid}/bookings/{bid}/{action}", body)
    return await act(request, f"{action}:{bid}", call, f"/desk/c/{cid}/centre", centre, action)


async def approve_group(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid, gid = str(m.compound_id), request.match_info["group_id"]
    call = api(request, "centre", cid).post(f"/v1/compounds/{cid}/interest-groups/{gid}/approve", None)
    return await act(request, f"group:{gid}", call, f"/desk/c/{cid}/centre", centre, "group")
