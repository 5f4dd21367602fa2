"""The neighbourhood centre for residents (邻里中心): venues and their hours, booking a venue,
signing up for activities (with the waiting-list place), interest groups, my loans and holds.
Every action is one call to the centre with the person's own token, then a redirect."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from aiohttp import web

from services.portal.desk.centre import SHANGHAI
from services.portal.handlers import compound_of, soft
from services.portal.web import Api, ApiError, api, form, redirect, render, session_of

FIELDS = {"venue_id": "venue_id", "starts_at": "day", "ends_at": "day", "purpose": "purpose"}


def _client(request: web.Request) -> tuple[Api, str, str]:
    """The person's centre client, the API base of the compound and the pages' base."""
    cid = str(compound_of(request).compound_id)
    return api(request, "centre", cid), f"/v1/compounds/{cid}", f"/c/{cid}/centre"


def _show(request: web.Request, template: str, context: dict[str, Any],
          status: int = 200) -> web.Response:
    """A centre page: the compound and the pages' base (for links and forms)."""
    c = compound_of(request)
    return render(request, template, {**context, "compound": c,
                                      "cbase": f"/c/{c.compound_id}/centre"}, status=status)


def _me(request: web.Request) -> str:
    return str(session_of(request).person_id)


def _upcoming(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Open activities not yet over, soonest first."""
    now = dt.datetime.now(dt.UTC)
    found = [a for a in activities if a["status"] == "open"
             and dt.datetime.fromisoformat(a["ends_at"]) > now]
    return sorted(found, key=lambda a: a["starts_at"])


async def upcoming_activities(client: Api, base: str) -> list[dict[str, Any]]:
    return _upcoming((await client.get(f"{base}/activities?limit=100"))["items"])


def _this_week(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    today = dt.datetime.now(SHANGHAI).date()
    sunday = today + dt.timedelta(days=6 - today.weekday())
    return [a for a in activities
            if dt.datetime.fromisoformat(a["starts_at"]).astimezone(SHANGHAI).date() <= sunday]


async def _my_groups(client: Api, base: str, groups: list[dict[str, Any]],
                     me: str) -> dict[str, str]:
    """My membership status ('active' / 'pending') in each group of the compound."""
    rolls = await asyncio.gather(*(client.get_all(f"{base}/interest-groups/{g['id']}/members")
                                   for g in groups))
    return {g["id"]: m["status"] for g, roll in zip(groups, rolls, strict=True)
            for m in roll if m["person_id"] == me and m["status"] in ("active", "pending")}


async def overview(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    client, base, _ = _client(request)
    venues, activities, groups = await asyncio.gather(
        soft(client.get_all(f"{base}/venues")), soft(upcoming_activities(client, base)),
        soft(client.get_all(f"{base}/interest-groups")))
    approved = [g for g in groups or [] if g["status"] == "approved"]
    mine = await soft(_my_groups(client, base, approved, _me(request))) or {}
    return _show(request, "centre.html", {
        "compound": c, "venues": venues, "week": _this_week(activities or []),
        "absent": venues is None, "groups": [g for g in approved if g["id"] in mine]})


# ---------------------------------------------------------------- venues


async def booking_page(request: web.Request, errors: dict[str, str] | None = None,
                       shown: dict[str, Any] | None = None, status: int = 200) -> web.StreamResponse:
    c = compound_of(request)
    client, base, _ = _client(request)
    venues, bookings = await asyncio.gather(
        client.get_all(f"{base}/venues"), client.get(f"{base}/bookings?mine=true&limit=50"))
    tomorrow = (dt.datetime.now(SHANGHAI) + dt.timedelta(days=1)).date().isoformat()
    defaults = {"day": tomorrow, "start": "19:00", "end": "20:00",
                "venue_id": request.query.get("venue", "")}
    now = dt.datetime.now(dt.UTC)
    live = [b for b in bookings["items"] if b["status"] in ("pending", "confirmed")
            and dt.datetime.fromisoformat(b["ends_at"]) > now]
    return _show(request, "centre_book.html", {
        "compound": c, "venues": [v for v in venues if v["active"]],
        "names": {v["id"]: v["name"] for v in venues}, "bookings": sorted(
            live, key=lambda b: b["starts_at"]), "form": shown or defaults,
        "errors": errors or {}}, status=status)


def _window(data: dict[str, str]) -> tuple[str, str] | None:
    try:
        day = dt.date.fromisoformat(data.get("day", ""))
        start = dt.time.fromisoformat(data.get("start", ""))
        end = dt.time.fromisoformat(data.get("end", ""))
    except ValueError:
        return None
    return (dt.datetime.combine(day, start, SHANGHAI).isoformat(),
            dt.datetime.combine(day, end, SHANGHAI).isoformat())


async def book(request: web.Request) -> web.StreamResponse:
    client, base, pages = _client(request)
    data = {k: v for k, v in (await form(request)).items() if isinstance(v, str)}
    window = _window(data)
    if not data.get("venue_id"):
        return await booking_page(request, {"venue_id": "请选择场地"}, data, status=422)
    if window is None:
        return await booking_page(request, {"day": "请选择日期和开始、结束时间"}, data, status=422)
    body = {"venue_id": data["venue_id"], "starts_at": window[0], "ends_at": window[1],
            "purpose": data.get("purpose", "").strip()}
    try:
        await client.post(f"{base}/bookings", body)
    except ApiError as exc:
        if exc.status in (404, 502) and not exc.fields:
            raise
        field = FIELDS.get(next(iter(exc.fields), ""), "day")
        return await booking_page(request, {field: exc.detail}, data, status=422)
    raise redirect(f"{pages}/book?done=booked")


async def cancel_booking(request: web.Request) -> web.StreamResponse:
    client, base, pages = _client(request)
    bid = request.match_info["booking_id"]
    try:
        await client.post(f"{base}/bookings/{bid}/cancel", None)
    except ApiError as exc:
        if exc.status == 404:
            raise
        return await booking_page(request, {f"cancel-{bid}": exc.detail}, status=422)
    raise redirect(f"{pages}/book?done=booking-cancelled")


# ---------------------------------------------------------------- activities


async def _my_signup(client: Api, base: str, activity_id: str, me: str) -> dict[str, Any] | None:
    signups = await client.get_all(f"{base}/activities/{activity_id}/signups")  # mine only
    return next((s for s in signups if s["person_id"] == me and s["status"] != "cancelled"), None)


async def activities_page(request: web.Request, errors: dict[str, str] | None = None,
                          status: int = 200) -> web.StreamResponse:
    c = compound_of(request)
    client, base, _ = _client(request)
    found = await upcoming_activities(client, base)
    me = _me(request)
    mine = await asyncio.gather(*(_my_signup(client, base, a["id"], me) for a in found))
    venues = {v["id"]: v["name"] for v in await soft(client.get_all(f"{base}/venues")) or []}
    return _show(request, "centre_activities.html", {
        "compound": c, "activities": list(zip(found, mine, strict=True)), "venues": venues,
        "errors": errors or {}}, status=status)


async def activity_action(request: web.Request) -> web.StreamResponse:
    """Sign up (confirmed, or on the waiting list when full), or cancel my sign-up."""
    client, base, pages = _client(request)
    aid = request.match_info["activity_id"]
    signup = request.match_info.get("signup_id")
    path = f"{base}/activities/{aid}/signups" + (f"/{signup}/cancel" if signup else "")
    try:
        await client.post(path, None)
    except ApiError as exc:
        if exc.status == 404:
            raise
        return await activities_page(request, {aid: exc.detail}, status=422)
    raise redirect(f"{pages}/activities?done={'signup-cancelled' if signup else 'signed-up'}#a-{aid}")


# ---------------------------------------------------------------- interest groups


async def groups_page(request: web.Request, errors: dict[str, str] | None = None,
                      status: int = 200) -> web.StreamResponse:
    c = compound_of(request)
    client, base, _ = _client(request)
    groups = [g for g in await client.get_all(f"{base}/interest-groups")
              if g["status"] == "approved"]
    mine = await _my_groups(client, base, groups, _me(request))
    return _show(request, "centre_groups.html", {
        "compound": c, "groups": groups, "mine": mine, "errors": errors or {}}, status=status)


async def group_action(request: web.Request) -> web.StreamResponse:
    client, base, pages = _client(request)
    gid, action = request.match_info["group_id"], request.match_info["action"]
    members = f"{base}/interest-groups/{gid}/members"
    try:
        if action == "join":
            await client.post(members, None)
        else:
            await client.post(f"{members}/{_me(request)}/leave", None)
    except ApiError as exc:
        if exc.status == 404:
            raise
        return await groups_page(request, {gid: exc.detail}, status=422)
    raise redirect(f"{pages}/groups?done={'joined' if action == 'join' else 'left'}")


# ---------------------------------------------------------------- library


async def library_page(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    client, base, _ = _client(request)
    mine = await client.get(f"{base}/my-library")
    loans = [x for x in mine["loans"] if x["status"] == "active"]
    holds = [x for x in mine["holds"] if x["status"] in ("waiting", "ready")]
    ids = sorted({x["book_id"] for x in loans + holds})
    books = await asyncio.gather(*(soft(client.get(f"{base}/books/{b}")) for b in ids))
    titles = {b: (book or {}).get("title", "(书目暂不可见)") for b, book in zip(ids, books, strict=True)}
    return _show(request, "centre_library.html", {
        "compound": c, "loans": sorted(loans, key=lambda x: x["due_on"]), "holds": holds,
        "titles": titles, "today": dt.datetime.now(SHANGHAI).date().isoformat()})

