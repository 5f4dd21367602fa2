"""The centre's activities at the desk: one activity's sign-ups and waiting list, each person
checked in at the door by their sign-up (staff need no code), and publishing an activity
(Beijing time, optionally in one of the centre's venues, which it books). Each action is one
call to the centre service."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from aiohttp import web

from services.portal.desk.centre import AUDIENCES, STAFF, centre
from services.portal.desk.common import act, desk_of, has, refused, show
from services.portal.desk.forms import instant, whole
from services.portal.handlers import soft
from services.portal.web import ApiError, api, form

SIGNUP_STATUS = {"confirmed": "报名成功", "waiting": "候补", "cancelled": "已取消"}
ACTIVITY_STATUS = {"open": "报名中", "cancelled": "已取消", "closed": "已结束"}


async def activity(request: web.Request) -> web.StreamResponse:
    """Who signed up (the signed-up first, then the waiting list in order) and who came."""
    m = desk_of(request)
    cid, aid = str(m.compound_id), request.match_info["activity_id"]
    client = api(request, "centre", cid)
    base = f"/v1/compounds/{cid}/activities/{aid}"
    found, signups, venues = await asyncio.gather(
        client.get(base), client.get_all(f"{base}/signups"),
        soft(client.get_all(f"/v1/compounds/{cid}/venues")))
    confirmed = [s for s in signups if s["status"] == "confirmed"]
    return show(request, "desk/centre_activity.html", {
        "activity": found, "signups": [s for s in signups if s["status"] != "cancelled"],
        "present": sum(1 for s in confirmed if s["checked_in_at"]), "confirmed": len(confirmed),
        "venue": next((v["name"] for v in venues or [] if v["id"] == found["venue_id"]), ""),
        "audiences": AUDIENCES, "statuses": SIGNUP_STATUS, "activity_status": ACTIVITY_STATUS,
        "staff": has(m, *STAFF)})


async def check_in(request: web.Request) -> web.StreamResponse:
    """Check a sign-up in at the door, by its number (the staff path of the centre)."""
    m = desk_of(request)
    cid, aid = str(m.compound_id), request.match_info["activity_id"]
    signup = str((await form(request)).get("signup_id", ""))
    call = api(request, "centre", cid).post(f"/v1/compounds/{cid}/activities/{aid}/check-in",
                                            {"signup_id": signup})
    return await act(request, f"check-in:{signup}", call,
                     f"/desk/c/{cid}/centre/activities/{aid}", activity, "check-in")


def _times(data: Any) -> tuple[dict[str, str], ApiError | None]:
    """The form's Beijing times as instants, or the refusal naming the field to fix."""
    out: dict[str, str] = {}
    for name, label in (("starts_at", "开始时间"), ("ends_at", "结束时间")):
        at = instant(data.get(name))
        if at is None:
            said = f"请填写或检查{label} (如 2026-06-01 14:00)"
            return out, ApiError(422, said, {name: said})
        out[name] = at
    if dt.datetime.fromisoformat(out["ends_at"]) <= dt.datetime.fromisoformat(out["starts_at"]):
        said = "结束时间须晚于开始时间"
        return out, ApiError(422, said, {"ends_at": said})
    if str(data.get("signup_closes_at", "")).strip():
        closes = instant(data.get("signup_closes_at"))
        if closes is None:
            said = "请检查报名截止时间 (如 2026-06-01 12:00)"
            return out, ApiError(422, said, {"signup_closes_at": said})
        out["signup_closes_at"] = closes
    return out, None


async def publish(request: web.Request) -> web.StreamResponse:
    """Publish an activity; with a venue, the centre books it in the same step."""
    m = desk_of(request)
    cid = str(m.compound_id)
    data = await form(request)
    times, wrong = _times(data)
    if wrong is not None:
        return await refused(request, "activity", wrong, centre)
    body: dict[str, Any] = {
        "title": str(data.get("title", "")).strip(), "organiser": str(data.get("organiser", "")).strip(),
        "audience": str(data.get("audience", "")), "capacity": whole(data.get("capacity")),
        "description": str(data.get("description", "")).strip(), **times}
    if venue := str(data.get("venue_id", "")):
        body["venue_id"] = venue
    call = api(request, "centre", cid).post(f"/v1/compounds/{cid}/activities", body)
    return await act(request, "activity", call, f"/desk/c/{cid}/centre", centre, "activity")
