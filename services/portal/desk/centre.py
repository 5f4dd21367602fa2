"""The neighbourhood centre at the desk (where the compound runs one): bookings to approve or
decline, the week's calendar per venue, activities with sign-ups and waiting lists (each one's
check-in: activities.py), interest groups to approve, and registering a venue with the same
opening hours on the days it opens. Each action is one call to the centre service. The library
at the front desk is library.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from services.portal.desk.common import act, desk_of, has, refused, show
from services.portal.desk.forms import whole
from services.portal.handlers import soft
from services.portal.web import ApiError, api, form, read_form

SHANGHAI = ZoneInfo("Asia/Shanghai")
STAFF = ("community", "party_branch", "owners_committee", "property", "street_office")
WEEKDAYS = "一二三四五六日"
VENUE_KINDS = {"room": "活动室", "court": "球场", "library": "图书角", "outdoor": "户外场地"}
AUDIENCES = {"everyone": "全体居民", "elderly": "老年人", "families": "亲子家庭",
             "young_workers": "青年上班族"}
DAYS = {"1", "2", "3", "4", "5", "6", "7"}
HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


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


def _runs(days: list[int]) -> str:
    """1, 2, 3, 4, 5 → 周一至周五; 1, 3, 6, 7 → 周一、周三、周六至周日; 1–7 → 每天."""
    if days == list(range(1, 8)):
        return "每天"
    runs: list[list[int]] = []
    for d in days:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return "、".join(f"周{WEEKDAYS[r[0] - 1]}" + (f"至周{WEEKDAYS[r[-1] - 1]}" if len(r) > 2 else
                                                  (f"、周{WEEKDAYS[r[-1] - 1]}" if len(r) == 2 else ""))
                    for r in runs)


def hours_words(hours: list[dict[str, Any]]) -> str:
    """A venue's opening hours in a few words: the days sharing the same hours together."""
    same: dict[tuple[str, str], list[int]] = defaultdict(list)
    for h in sorted(hours, key=lambda h: h["weekday"]):
        same[(h["opens"], h["closes"])].append(h["weekday"])
    return "；".join(f"{_runs(days)} {opens}–{closes}" for (opens, closes), days in same.items())


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
        "staff": has(m, *STAFF),
        "venue_list": [{**v, "hours": hours_words(v["opening_hours"])} for v in venues], "kinds": VENUE_KINDS,
        "weekdays": WEEKDAYS, "audiences": AUDIENCES})


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


def _hours(data: Any) -> list[dict[str, Any]] | ApiError:
    """The same opening hours on each day ticked (1 = 周一 … 7 = 周日), or the refusal."""
    opens, closes = str(data.get("opens", "")).strip(), str(data.get("closes", "")).strip()
    for name, value in (("opens", opens), ("closes", closes)):
        if not HHMM.fullmatch(value):
            said = "请按 24 小时制填写时间, 如 08:00"
            return ApiError(422, said, {name: said})
    if closes <= opens:
        said = "关门时间须晚于开门时间"
        return ApiError(422, said, {"closes": said})
    days = sorted({int(d) for d in data.getall("weekdays", []) if str(d) in DAYS})
    if not days:
        said = "请至少勾选一天开放"
        return ApiError(422, said, {"weekdays": said})
    return [{"weekday": d, "opens": opens, "closes": closes} for d in days]


async def add_venue(request: web.Request) -> web.StreamResponse:
    """Register a venue: name, kind, capacity, opening hours, whether bookings need approval."""
    m = desk_of(request)
    cid = str(m.compound_id)
    data = await read_form(request)
    hours = _hours(data)
    if isinstance(hours, ApiError):
        return await refused(request, "venue", hours, centre)
    body = {"name": str(data.get("name", "")).strip(), "kind": str(data.get("kind", "")),
            "capacity": whole(data.get("capacity")), "opening_hours": hours,
            "requires_approval": data.get("requires_approval") == "1"}
    call = api(request, "centre", cid).post(f"/v1/compounds/{cid}/venues", body)
    return await act(request, "venue", call, f"/desk/c/{cid}/centre", centre, "venue")
