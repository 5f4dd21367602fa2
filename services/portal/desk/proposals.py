"""Proposals in flight: each with its workflow's current step, deadlines and step history (the
workflow API), and the actions that step allows this person, each one call with a confirmation."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from services.portal.desk.common import PARTIES, act, desk_of, has, refused, show
from services.portal.desk.forms import fen, instant, lines, number, seconds_until
from services.portal.models import Membership
from services.portal.web import Api, ApiError, api, form, redirect

STEPS = {"draft": "草案", "consultation": "征求意见", "vote": "表决", "rejected": "表决未通过, 待决定",
         "implementation": "实施", "acceptance": "验收", "satisfaction": "满意度评价",
         "completed": "已完成", "abandoned": "已放弃", "cancelled": "已取消"}
STATUSES = {"draft": "草案", "consultation": "征求意见中", "consulted": "征求意见结束",
            "voting": "表决中", "passed": "已通过", "rejected": "未通过"}
OUTCOMES = {"started": "开始", "closed": "结束", "passed": "通过", "rejected": "未通过",
            "revise": "修订后重新征求意见", "abandon": "放弃", "done": "完成", "approved": "验收通过",
            "defects": "验收发现问题", "cancelled": "取消", "restart": "重新征求意见", "extend": "延长"}
DEADLINES = {"consultation_closes": "征求意见截止", "vote_closes": "表决截止",
             "decision": "决定期限", "acceptance_due": "验收期限", "satisfaction_closes": "评价截止"}
MATTERS = {"community": "小区公共事务 (非民法典第278条事项)",
           "art278_5": "使用建筑物及其附属设施的维修资金", "art278_6": "筹集维修资金",
           "art278_7": "改建、重建建筑物及其附属设施", "art278_8": "改变共有部分用途或经营",
           "art278_4": "选聘和解聘物业服务企业", "art278_9": "其他重大事项"}
DAY = 86400.0
CONVENERS = ("party_branch", "community", "owners_committee", "street_office", "property")


async def workflow_of(flows: Api, proposal_id: str) -> dict[str, Any] | None:
    """The proposal's workflow, or None when it runs without one (or the API is unreachable)."""
    try:
        view: dict[str, Any] = await flows.get(f"/v1/workflows/proposal-{proposal_id}")
        return view
    except ApiError:
        return None


def deadline_words(state: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for key, at in state.get("deadlines", {}).items():
        label = f"里程碑「{key.split(':', 1)[1]}」到期" if key.startswith("milestone:") else \
            DEADLINES.get(key, key)
        out.append((label, at))
    return out


async def proposals(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid = str(m.compound_id)
    query = {k: request.query[k] for k in ("status", "cursor") if request.query.get(k)}
    page = await api(request, "meetings", cid).get(
        f"/v1/compounds/{cid}/proposals?" + urlencode({**query, "limit": "20"}))
    flows = api(request, "workflows", cid)
    states = await asyncio.gather(*(workflow_of(flows, p["id"]) for p in page["items"]))
    rows = [{**p, "flow": (s or {}).get("state")} for p, s in zip(page["items"], states, strict=True)]
    more = urlencode({**query, "cursor": page["next_cursor"]}) if page.get("next_cursor") else ""
    return show(request, "desk/proposals.html", {
        "rows": rows, "steps": STEPS, "statuses": STATUSES, "chosen": query.get("status", ""),
        "more": more, "matters": MATTERS, "proposes": _proposes(m)})


def _proposes(m: Membership) -> bool:
    return has(m, "party_branch", "community", "owners_committee", "street_office", "property")


async def proposal(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid, pid = str(m.compound_id), request.match_info["proposal_id"]
    meetings = api(request, "meetings", cid)
    base = f"/v1/compounds/{cid}/proposals/{pid}"
    found, versions, summary, votes, flow = await asyncio.gather(
        meetings.get(base), meetings.get_all(f"{base}/versions"),
        meetings.get(f"{base}/opinions/summary"), meetings.get_all(f"{base}/votes"),
        workflow_of(api(request, "workflows", cid), pid))
    state = (flow or {}).get("state") or {}
    step = state.get("step", "")
    running = bool(flow) and flow.get("status") == "running"
    convener = has(m, state.get("convener_org", "party_branch"))
    manages = has(m, "party_branch", "community", "owners_committee", "street_office")
    return show(request, "desk/proposal.html", {
        "p": found, "versions": versions, "summary": summary, "votes": votes, "flow": flow,
        "state": state, "step": step, "steps": STEPS, "outcomes": OUTCOMES, "parties": PARTIES,
        "deadlines": deadline_words(state), "statuses": STATUSES,
        "may": {"start": flow is None and found["status"] == "draft" and manages,
                "revise": running and step == "consultation" and manages,
                "decide": running and step == "rejected" and convener,
                "progress": running and step == "implementation" and manages,
                "accept": running and step == "acceptance" and manages,
                "cancel": running and convener,
                "unblock": running and convener and bool(state.get("blocked")),
                "open_vote": flow is None and found["status"] in ("consultation", "consulted")
                and manages and not any(v["status"] == "open" for v in votes)},
        "conveners": [r for r in CONVENERS if has(m, r)],
        "pending": [x for x in state.get("milestones", []) if not x.get("done_at")]})


UNREADABLE_BUDGET = "预算须为金额 (元), 如 12800 或 12800.50; 不填则不设预算"


def _unreadable_budget(data: dict[str, Any]) -> ApiError | None:
    """A budget typed but no amount ("十二万", "NaN", "1e999999"): refused next to the field
    before any service is asked, not left out of the proposal without a word."""
    if str(data.get("budget") or "").strip() and fen(data.get("budget")) is None:
        return ApiError(422, UNREADABLE_BUDGET, {"budget": UNREADABLE_BUDGET})
    return None


async def create(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid = str(m.compound_id)
    data = await form(request)
    if unreadable := _unreadable_budget(data):
        return await refused(request, "create", unreadable, proposals)
    body: dict[str, Any] = {"title": str(data.get("title", "")).strip(),
                            "matter": str(data.get("matter", "")),
                            "body": str(data.get("body", "")).strip()}
    if (budget := fen(data.get("budget"))) is not None:
        body["budget_fen"] = budget
    if data.get("issue_id"):  # made from an issue's page: the issue follows the proposal
        body["issue_ids"] = [str(data["issue_id"])]
    try:
        made = await api(request, "meetings", cid).post(f"/v1/compounds/{cid}/proposals", body)
    except ApiError as exc:
        return await refused(request, "create", exc, proposals)
    raise redirect(f"/desk/c/{cid}/proposals/{made['id']}?ok=create")


def _decision(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("choice") == "abandon":
        return {"action": "abandon", "reason": str(data.get("reason", "")).strip()}
    return {"action": "revise", "revision": _revision(data)}


def _progress(data: dict[str, Any]) -> dict[str, Any]:
    return {"milestone": str(data.get("milestone", "")), "percent": int(number(data.get("percent"))),
            "note": str(data.get("note", "")).strip()}


# action → (the workflow API path under the run, the body from the form)
FLOW_ACTIONS: dict[str, tuple[str, Any]] = {
    "revise": ("updates/revise", lambda d: _revision(d)),
    "decide": ("updates/decide", lambda d: _decision(d)),
    "progress": ("signals/milestone_progress", lambda d: _progress(d)),
    "accept": ("updates/accept", lambda d: {"approved": True, "signed_by": lines(d.get("signed_by"))}),
    "send-back": ("updates/accept", lambda d: {"approved": False, "defects": lines(d.get("defects"))}),
    "cancel": ("cancel", lambda d: {"reason": str(d.get("reason", "")).strip()}),
    # a run meetings refused for good waits for the convener: try again, or give it up
    "retry": ("updates/unblock", lambda d: {"action": "retry"}),
    "give-up": ("updates/unblock", lambda d: {"action": "abandon",
                                              "reason": str(d.get("reason", "")).strip()}),
}


async def proposal_action(request: web.Request) -> web.StreamResponse:
    """start / revise / decide / progress / accept / send-back / cancel / open-vote / retry /
    give-up: one call."""
    m = desk_of(request)
    cid, pid, action = str(m.compound_id), request.match_info["proposal_id"], request.match_info["action"]
    data = await form(request)
    flows = api(request, "workflows", cid)
    if action in ("revise", "decide") and (unreadable := _unreadable_budget(data)):
        return await refused(request, action, unreadable, proposal)
    if action == "start":
        call = flows.post("/v1/workflows", _start_body(cid, pid, data))
    elif action in FLOW_ACTIONS:
        path, body = FLOW_ACTIONS[action]
        call = flows.post(f"/v1/workflows/proposal-{pid}/{path}", body(data))
    elif not instant(data.get("closes_at")):  # missing or unreadable; else meetings names
        return await refused(request, action, ApiError(  # the JSON field
            422, "请填写或检查表决截止时间 (如 2026-06-01 18:00)"), proposal)
    else:
        call = api(request, "meetings", cid).post(f"/v1/compounds/{cid}/proposals/{pid}/votes",
                                                  _vote_body(data))
    return await act(request, action, call, f"/desk/c/{cid}/proposals/{pid}", proposal,
                     action.replace("-", "_"))


def _start_body(cid: str, pid: str, data: dict[str, Any]) -> dict[str, Any]:
    milestones = []
    for line in lines(data.get("milestones")):
        name, _, rest = line.partition("|")
        due, _, owner = rest.partition("|")
        milestones.append({"name": name.strip(), "due_at": instant(due.strip()) or due.strip(),
                           "owner": owner.strip()})
    consult = seconds_until(data.get("consultation_closes"))
    vote = number(data.get("vote_days")) * DAY
    return {"type": "proposal", "key": f"desk-{pid}", "input": {
        "compound_id": cid, "proposal_id": pid, "convener": PARTIES.get(str(data.get("convener_org")), ""),
        "convener_org": str(data.get("convener_org", "")),
        "consultation_seconds": consult, "consultation_reminders": _before(consult, [2 * DAY]),
        "vote_seconds": vote, "vote_reminders": _before(vote, [3 * DAY, DAY]),
        "milestones": milestones}}


def _before(window: float, reminders: list[float]) -> list[float]:
    """The usual reminders (days before the end) that fit in a shorter window."""
    return [r for r in reminders if r < window]


def _revision(data: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"body": str(data.get("body", "")).strip(),
                            "change_summary": str(data.get("change_summary", "")).strip(),
                            "window": str(data.get("window", "restart"))}
    if (budget := fen(data.get("budget"))) is not None:
        body["budget_fen"] = budget
    return body


def _vote_body(data: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"closes_at": instant(str(data.get("closes_at", ""))) or "",
                            "secret": data.get("secret") == "on"}
    if data.get("rule"):
        body["rule"] = str(data["rule"])
    return body
