"""A vote at the desk: the rule in words, live turnout by area and headcount against each
threshold, the owners who have not voted, paper and proxy ballots with their audit list, close,
and the result with every threshold as exact numbers."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from services.portal.desk.common import act, desk_of, has, show
from services.portal.handlers import soft
from services.portal.vote_pages import CHOICES, rule_text, thresholds, turnout_bars
from services.portal.web import api, form

RULE_NAMES = {"civil_code_major": "民法典第278条 重大事项 (双三分之二参与, 双四分之三同意)",
              "civil_code_ordinary": "民法典第278条 一般事项 (双三分之二参与, 双过半同意)",
              "simple_majority": "简单多数", "consensus": "全体一致",
              "committee_election":
                  "民法典第278条第3项 业主委员会选举 (每位候选人双三分之二参与, 双过半赞成)"}
SHOWN_NON_VOTERS = 60
ENTRY_KINDS = {"developer": "开发商 (未售房屋)"}


async def _names(request: web.Request, cid: str, person_ids: list[str]) -> list[dict[str, str]]:
    """Names of people (never their phones) for the reminder list and the ballot form."""
    directory = api(request, "directory", cid)
    found = await asyncio.gather(*(soft(directory.get(f"/v1/people/{p}")) for p in person_ids))
    return [{"id": p, "name": (who or {}).get("name", "未知")} for p, who in zip(person_ids, found,
                                                                                strict=True)]


async def vote(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid, vid = str(m.compound_id), request.match_info["vote_id"]
    meetings = api(request, "meetings", cid)
    base = f"/v1/compounds/{cid}/votes/{vid}"
    found = await meetings.get(base)
    officer = has(m, "officer", "owners_committee")
    reminds = has(m, "officer", "party_branch", "community", "owners_committee", "street_office")
    p, turnout, waiting, entered, result = await asyncio.gather(
        meetings.get(f"/v1/compounds/{cid}/proposals/{found['proposal_id']}"),
        meetings.get(f"{base}/turnout"),
        soft(meetings.get(f"{base}/non-voters")) if reminds else asyncio.sleep(0, None),
        soft(meetings.get_all(f"{base}/paper-ballots")) if reminds else asyncio.sleep(0, None),
        soft(meetings.get(f"{base}/result")))
    people = await _names(request, cid, [str(x) for x in (waiting or {}).get("person_ids", [])
                                         ][:SHOWN_NON_VOTERS])
    audit_ids = {e["entry_id"].removeprefix("person:") for e in entered or []
                 if e["entry_id"].startswith("person:")} | {e["entered_by"] for e in entered or []}
    who = {p["id"]: p["name"] for p in await _names(request, cid, sorted(audit_ids))}
    is_open = found["status"] == "open"
    manages = has(m, "party_branch", "community", "owners_committee", "street_office")
    # a workflow-run proposal's vote is closed through the workflow (meetings refuses a person's
    # close or cancel there); cancelling it is cancelling the run, on the proposal's page
    managed = p.get("managed_by")
    return show(request, "desk/vote.html", {
        "vote": found, "p": p, "rule": rule_text(found), "rule_name": RULE_NAMES.get(found["rule"]),
        "bars": turnout_bars(turnout, found), "turnout": turnout, "waiting": waiting,
        "people": people, "entered": entered or [], "choices": CHOICES,
        "result": result, "rows": thresholds(result) if result else [],
        "entries": [e for e in (waiting or {}).get("entry_ids", []) if e in ENTRY_KINDS],
        "entry_kinds": ENTRY_KINDS, "who": who, "managed_by": managed,
        "may": {"paper": is_open and officer, "close": is_open and manages,
                "cancel": is_open and not managed and (manages or officer)}})


async def _close(request: web.Request, cid: str, base: str, reason: str) -> Any:
    """Close now: in meetings, or through the workflow running the proposal (its close_vote
    update, with the reason; the workflow counts the vote in meetings)."""
    meetings = api(request, "meetings", cid)
    found = await meetings.get(base)
    p = await meetings.get(f"/v1/compounds/{cid}/proposals/{found['proposal_id']}")
    if not p.get("managed_by"):
        return await meetings.post(f"{base}/close", None)
    flows = api(request, "workflows", cid)
    return await flows.post(f"/v1/workflows/{p['managed_by']}/updates/close_vote",
                            {"reason": reason})


async def vote_action(request: web.Request) -> web.StreamResponse:
    """paper / close / cancel: one call to meetings (a managed vote's close: to its workflow)."""
    m = desk_of(request)
    cid, vid, action = str(m.compound_id), request.match_info["vote_id"], request.match_info["action"]
    data = await form(request)
    base = f"/v1/compounds/{cid}/votes/{vid}"
    meetings = api(request, "meetings", cid)
    if action == "paper":
        who = str(data.get("voter", ""))
        body: dict[str, Any] = {"choice": str(data.get("choice", ""))}
        body["entry_id" if who.startswith("entry:") else "person_id"] = who.removeprefix("entry:")
        if proxy := str(data.get("proxy_name", "")).strip():
            body["proxy_name"] = proxy
        call = meetings.post(f"{base}/paper-ballots", body)
    elif action == "close":
        call = _close(request, cid, base, str(data.get("reason", "")).strip())
    else:
        call = meetings.post(f"{base}/cancel", {"reason": str(data.get("reason", "")).strip()})
    return await act(request, action, call, f"/desk/c/{cid}/votes/{vid}", vote, action)
