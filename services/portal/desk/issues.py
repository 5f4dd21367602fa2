"""The issues queue: the compound's issues by party, status and category, overdue first; an
issue's timeline and the steps its responsible party (or the community) may take."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from services.portal.desk.common import PARTIES, act, desk_of, has, show
from services.portal.desk.proposals import MATTERS
from services.portal.issue_pages import ACTIONS, AREAS, STATUSES
from services.portal.web import api, form

TEMPLATES = {"received": "已收到, 尽快安排", "scheduled": "已安排上门查看",
             "parts_ordered": "配件已订购", "fixed": "已处理完毕, 请确认",
             "not_ours": "不属本单位职责, 已转交"}
FILTERS = ("q", "responsible", "status", "category", "overdue")
# how the issue came in (issues' channel), as a person says it
CHANNELS = {"app": "居民端", "staff": "工作人员代报", "open311": "第三方平台 (Open311)"}


def _query(request: web.Request) -> dict[str, str]:
    return {k: request.query[k] for k in FILTERS if request.query.get(k)}


async def queue(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid = str(m.compound_id)
    issues = api(request, "issues", cid)
    chosen = _query(request)
    cursor = request.query.get("cursor", "")
    rest = {**chosen, "limit": "25"} | ({"cursor": cursor} if cursor else {})
    late: dict[str, Any] = {"items": []}
    if "overdue" not in chosen and not cursor:  # overdue first, then everything else
        rest["overdue"] = "false"
        late = await issues.get(f"/v1/compounds/{cid}/issues?" + urlencode(
            {**chosen, "overdue": "true", "limit": "50"}))
    page, categories = await asyncio.gather(
        issues.get(f"/v1/compounds/{cid}/issues?" + urlencode(rest)),
        issues.get_all(f"/v1/compounds/{cid}/issue-categories"))
    more = {**chosen, "cursor": page.get("next_cursor") or ""}
    if "overdue" not in chosen:
        more["overdue"] = "false"
    return show(request, "desk/issues.html", {
        "late": late["items"], "page": page, "chosen": chosen, "parties": PARTIES,
        "statuses": STATUSES, "categories": {c["code"]: c["name"] for c in categories},
        "more": urlencode(more) if page.get("next_cursor") else ""})


async def issue(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid, iid = str(m.compound_id), request.match_info["issue_id"]
    issues = api(request, "issues", cid)
    found, history, comments, categories = await asyncio.gather(
        issues.get(f"/v1/compounds/{cid}/issues/{iid}"),
        issues.get_all(f"/v1/compounds/{cid}/issues/{iid}/history"),
        issues.get_all(f"/v1/compounds/{cid}/issues/{iid}/comments"),
        issues.get_all(f"/v1/compounds/{cid}/issue-categories"))
    others = await issues.get(f"/v1/compounds/{cid}/issues?" + urlencode(
        {"category": found["category"], "limit": "50"}))
    timeline = sorted([{"at": h["created_at"], "what": ACTIONS.get(h["action"], h["action"])
                        + (f": {STATUSES.get(h['to_status'], h['to_status'])}"
                           if h["to_status"] and h["action"] != "reported" else ""),
                        "note": h["note"]} for h in history]
                      + [{"at": c["created_at"], "what": "答复" if c["official"] else "留言",
                          "note": c["body"]} for c in comments], key=lambda e: e["at"])
    units = {str(u.id): u.label for u in m.units}
    return show(request, "desk/issue.html", {
        "issue": found, "timeline": timeline, "parties": PARTIES, "templates": TEMPLATES,
        "channel": CHANNELS.get(found["channel"], found["channel"]),
        "category": next((c["name"] for c in categories if c["code"] == found["category"]),
                         found["category"]),
        "where": AREAS.get(found["area"] or "", "") or units.get(str(found["unit_id"]), "住户房屋"),
        "works": has(m, "community", found["responsible"]),
        "escalates": has(m, "party_branch", "owners_committee") and not found["escalated_at"],
        # an issue with the council becomes a proposal here (issues follows it by its events)
        "proposes": bool(found["escalated_at"]) and not found.get("with_council")
        and has(m, "party_branch", "owners_committee", "community", "street_office"),
        "matters": MATTERS,
        "originals": [i for i in others["items"] if i["id"] != iid
                      and i["status"] in ("submitted", "accepted", "in_progress", "resolved")]})


STEPS = {"accept": "accepted", "start": "in_progress", "resolve": "resolved",
         "reject": "rejected", "duplicate": "duplicate"}


async def issue_action(request: web.Request) -> web.StreamResponse:
    """accept / start / resolve / reject / duplicate / respond / reassign / escalate: one call."""
    m = desk_of(request)
    cid, iid, action = str(m.compound_id), request.match_info["issue_id"], request.match_info["action"]
    data = await form(request)
    note = str(data.get("note", "")).strip()
    path = f"/v1/compounds/{cid}/issues/{iid}"
    issues = api(request, "issues", cid)
    if action in STEPS:
        body: dict[str, Any] = {"to": STEPS[action]}
        if action == "reject":
            body["reason"] = note
        else:
            body["note"] = note
        if action == "duplicate":
            body["duplicate_of"] = str(data.get("duplicate_of", ""))
        call = issues.post(f"{path}/status", body)
    elif action == "respond":
        template = str(data.get("template", ""))
        call = issues.post(f"{path}/comments", {"body": note} | ({"template": template} if template else {}))
    elif action == "reassign":
        call = issues.post(f"{path}/reassign", {"to": str(data.get("to", "")), "note": note})
    else:
        call = issues.post(f"{path}/escalate", {"reason": note})
    return await act(request, action, call, f"/desk/c/{cid}/issues/{iid}", issue, action)
