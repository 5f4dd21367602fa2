"""Meetings at the desk: convene (kind, time, place, organisations and people of the 1+3+N
roster), the agenda from escalated issues and proposals, RSVPs, check-in with a printable sheet,
the quorum, opinions per speaker and each item's outcome, follow-ups, and the minutes from draft
to approved to published. The convener's organisation manages; meetings refuses anyone else."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from aiohttp import web

from linli.values import china_today
from services.portal.desk.common import act, desk_of, has, refused, show
from services.portal.desk.forms import instant
from services.portal.handlers import soft
from services.portal.web import ApiError, api, form, read_form, redirect, session_of

KINDS = {"party_masses_council": "党群议事会", "residents_council": "居民议事会",
         "owners_general_meeting": "业主大会", "hearing": "听证会"}
OUTCOMES = {"consensus": "达成共识", "vote": "交付表决", "deferred": "暂缓", "referred": "转交"}
STANCES = {"support": "支持", "oppose": "反对", "suggest": "建议"}
RSVP = {"yes": "参加", "no": "不参加", "maybe": "待定", None: "未回复"}
MINUTES = {"draft": "草稿", "approved": "已批准", "published": "已公示"}
CONVENES = ("party_branch", "community", "owners_committee", "street_office")


async def _roster(request: web.Request, cid: str) -> list[dict[str, Any]]:
    """The roster as it stands today: whom the convene form offers to invite (meetings takes
    only people serving today, owners and residents) and the organisations one convenes for."""
    today = china_today().isoformat()  # roles change on China's days, as the lookup checks
    roster: list[dict[str, Any]] = await api(request, "directory", cid).get_all(
        f"/v1/compounds/{cid}/roster?on={today}")
    return roster


def _mine(roster: list[dict[str, Any]], person_id: str) -> list[dict[str, Any]]:
    """The organisations the person serves in: those they may convene for."""
    return [e["organisation"] for e in roster
            if any(r["person_id"] == person_id for r in e["roles"])]


async def meetings(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid = str(m.compound_id)
    found, waiting, roster, venues = await asyncio.gather(
        api(request, "meetings", cid).get_all(f"/v1/compounds/{cid}/meetings"),
        soft(api(request, "meetings", cid).get_all(f"/v1/compounds/{cid}/agenda-items")),
        _roster(request, cid), soft(api(request, "centre", cid).get_all(f"/v1/compounds/{cid}/venues")))
    me = str(session_of(request).person_id)
    return show(request, "desk/meetings.html", {
        "meetings": sorted(found, key=lambda x: x["starts_at"], reverse=True),
        "waiting": waiting or [], "roster": roster, "kinds": KINDS,
        "venues": [v["name"] for v in venues or []],  # the centre's rooms, where it runs
        "conveners": _mine(roster, me) if has(m, *CONVENES) else []})


async def convene(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid = str(m.compound_id)
    data = await read_form(request)
    body: dict[str, Any] = {
        "kind": str(data.get("kind", "")), "title": str(data.get("title", "")).strip(),
        "starts_at": instant(data.get("starts_at")) or "", "ends_at": instant(data.get("ends_at")) or "",
        "convener_org_id": str(data.get("convener_org_id", "")),
        "organisation_ids": [str(x) for x in data.getall("organisation_ids", [])],
        "person_ids": [str(x) for x in data.getall("person_ids", [])]}
    if place := str(data.get("place", "")).strip():
        body["place"] = place
    if not body["starts_at"] or not body["ends_at"]:  # missing or unreadable (a plain text box
        # where the browser has no date picker); else meetings names the JSON fields
        return await refused(request, "convene", ApiError(
            422, "请填写或检查会议的开始和结束时间 (如 2026-06-01 14:00)"), meetings)
    if dt.datetime.fromisoformat(body["ends_at"]) <= dt.datetime.fromisoformat(body["starts_at"]):
        # meetings would speak of time zones ("会议时间须带时区, 且结束晚于开始"), which the form
        # takes care of (Beijing time)
        late = "结束时间须晚于开始时间"
        return await refused(request, "convene", ApiError(422, late, {"ends_at": late}), meetings)
    try:
        made = await api(request, "meetings", cid).post(f"/v1/compounds/{cid}/meetings", body)
    except ApiError as exc:
        return await refused(request, "convene", exc, meetings)
    raise redirect(f"/desk/c/{cid}/meetings/{made['id']}?ok=convene")


async def _detail(request: web.Request) -> dict[str, Any]:
    m = desk_of(request)
    cid, mid = str(m.compound_id), request.match_info["meeting_id"]
    meetings_api = api(request, "meetings", cid)
    base = f"/v1/compounds/{cid}/meetings/{mid}"
    found, quorum, minutes, waiting, proposals, roster = await asyncio.gather(
        meetings_api.get(base), soft(meetings_api.get(f"{base}/quorum")),
        soft(meetings_api.get(f"{base}/minutes")),
        soft(meetings_api.get_all(f"/v1/compounds/{cid}/agenda-items")),
        soft(meetings_api.get(f"/v1/compounds/{cid}/proposals?limit=50")), _roster(request, cid))
    me = str(session_of(request).person_id)
    convener = any(o["id"] == found["convener_org_id"] for o in _mine(roster, me)) or has(m)
    orgs = {o["organisation_id"]: o["name"] for o in found["organisations"]}
    return {"meeting": found, "quorum": quorum, "minutes": minutes, "waiting": waiting or [],
            "proposals": [p for p in (proposals or {"items": []})["items"]
                          if p["status"] not in ("passed", "rejected")],
            "orgs": orgs, "convener": convener, "kinds": KINDS, "outcomes": OUTCOMES,
            "stances": STANCES, "rsvp": RSVP, "minutes_words": MINUTES,
            "present": sum(1 for i in found["invitees"] if i["present"])}


async def meeting(request: web.Request) -> web.StreamResponse:
    return show(request, "desk/meeting.html", await _detail(request))


async def sheet(request: web.Request) -> web.StreamResponse:
    """The check-in list to print for the door, one line per invitee with a signature box."""
    return show(request, "desk/sheet.html", await _detail(request))


def _agenda_body(data: dict[str, Any]) -> dict[str, Any]:
    source = str(data.get("source", ""))
    body: dict[str, Any] = {"presenter": str(data.get("presenter", "")).strip()}
    if source.startswith("item:"):
        body["item_id"] = source.removeprefix("item:")
    elif source.startswith("proposal:"):
        body["proposal_id"] = source.removeprefix("proposal:")
    else:
        body["title"] = str(data.get("title", "")).strip()
    return body


MEETING_ACTIONS: dict[str, tuple[str, str, Any]] = {
    # action → (method, path under the meeting, body from the form)
    "agenda": ("POST", "/agenda", _agenda_body),
    "check-in": ("POST", "/check-in", lambda d: {"person_id": str(d.get("person_id", ""))}),
    "minutes-draft": ("POST", "/minutes", lambda d: None),
    "minutes-edit": ("PUT", "/minutes", lambda d: {"text": str(d.get("text", ""))}),
    "minutes-approve": ("POST", "/minutes/approve", lambda d: None),
    "minutes-publish": ("POST", "/minutes/publish",
                        lambda d: {"notice_days": int(str(d.get("notice_days", "7")) or 7)
                                   if str(d.get("notice_days", "7")).isdigit() else 0}),
    "cancel": ("POST", "/cancel", lambda d: {"reason": str(d.get("reason", "")).strip()}),
}


async def meeting_action(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid, mid, action = str(m.compound_id), request.match_info["meeting_id"], request.match_info["action"]
    method, path, body = MEETING_ACTIONS[action]
    call = api(request, "meetings", cid).request(
        method, f"/v1/compounds/{cid}/meetings/{mid}{path}", json=body(await form(request)))
    return await act(request, action, call, f"/desk/c/{cid}/meetings/{mid}", meeting,
                     action.replace("-", "_"))


def _item_body(action: str, data: dict[str, Any]) -> dict[str, Any]:
    if action == "opinion":
        speaker = str(data.get("speaker", ""))
        person, org, name = [*speaker.split("|", 2), "", ""][:3]
        return {"speaker_id": person, "speaker_name": name, "stance": str(data.get("stance", "")),
                "text": str(data.get("text", "")).strip()} | ({"organisation_id": org} if org else {})
    if action == "outcome":
        return {"outcome": str(data.get("outcome", "")), "note": str(data.get("note", "")).strip()}
    return {"title": str(data.get("title", "")).strip(), "due_on": str(data.get("due_on", "")),
            "organisation_id": str(data.get("organisation_id", ""))}


async def item_action(request: web.Request) -> web.StreamResponse:
    """opinion / outcome / follow-up of one agenda item."""
    m = desk_of(request)
    cid, mid = str(m.compound_id), request.match_info["meeting_id"]
    item, action = request.match_info["item_id"], request.match_info["action"]
    path = {"opinion": "opinions", "outcome": "outcome", "follow-up": "actions"}[action]
    call = api(request, "meetings", cid).post(
        f"/v1/compounds/{cid}/meetings/{mid}/agenda/{item}/{path}",
        _item_body(action, await form(request)))
    return await act(request, f"{action}:{item}", call, f"/desk/c/{cid}/meetings/{mid}", meeting,
                     action.replace("-", "_"))
