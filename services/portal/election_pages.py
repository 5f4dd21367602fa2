"""The committee election's ballot (民法典第278条第3项): the candidates as published, one mark
per candidate (赞成 at most as many as there are seats, 反对, or 弃权), the ballot recorded,
and after closing each candidate's result with every threshold's needed and reached value."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from services.portal.handlers import compound_of
from services.portal.vote_pages import my_ballot, rule_text, thresholds, turnout_bars
from services.portal.web import ApiError, api, form, redirect, render

MARKS = {"agree": "赞成", "oppose": "反对", "abstain": "弃权"}
STATUS = {"elected": "当选", "tied": "末位并列 (按议事规则处理)", "runner_up": "达到门槛, 名次在席位之后",
          "not_qualified": "未达到门槛"}
RECORDED = re.compile(r"ballot-(\d{1,3})-(\d{1,3})")


def outcome_text(result: dict[str, Any]) -> str:
    r = result["result"]
    if r["outcome"] == "complete":
        return f"应选 {r['seats']} 名, 全部选出"
    if r["outcome"] == "tie":
        return (f"应选 {r['seats']} 名, 末位得票完全相同, {r['open_seats']} 个席位"
                "待按议事规则处理 (不作随意取舍)")
    return f"应选 {r['seats']} 名, {r['open_seats']} 个席位无人当选, 须补选"


def candidate_rows(result: dict[str, Any], positions: dict[str, int]) -> list[dict[str, Any]]:
    """Each candidate in rank order with their thresholds (as the plain votes show them); the
    place on the ballot paper tells apart two candidates of the same name."""
    return [{"name": c["name"], "status": c["status"], "position": positions.get(c["candidate"]),
             "status_text": STATUS.get(c["status"], c["status"]),
             "approving": f"{c['approving_headcount']} 人, "
                          f"{c['approving_area_centi'] / 100:.2f} m²",
             "rows": thresholds({"result": c})} for c in result["result"]["candidates"]]


def recorded(query: str, seats: int) -> dict[str, int] | None:
    """What the redirect after casting says was recorded (counts only: names stay server-side)."""
    found = RECORDED.fullmatch(query)
    if found is None or int(found.group(1)) > seats:
        return None
    return {"agree": int(found.group(1)), "oppose": int(found.group(2))}


async def page(request: web.Request, vote: dict[str, Any], item: dict[str, Any],
               errors: dict[str, str] | None = None, marks: dict[str, str] | None = None,
               status: int = 200) -> web.StreamResponse:
    c = compound_of(request)
    cid = str(c.compound_id)
    meetings = api(request, "meetings", cid)
    base = f"/v1/compounds/{cid}/votes/{vote['id']}"
    candidates = sorted(await meetings.get_all(f"{base}/candidates"), key=lambda x: x["position"])
    bars = result = None
    mine = await my_ballot(request, cid, str(vote["id"])) if "owner" in c.roles else None
    if vote["status"] == "open" and not vote["secret"]:
        bars = turnout_bars(await meetings.get(f"{base}/turnout"), vote)
    if vote["status"] == "closed":
        result = await meetings.get(f"{base}/result")
    return render(request, "election.html", {
        "compound": c, "p": item, "vote": vote, "rule": rule_text(vote), "bars": bars,
        "candidates": candidates, "marks": marks or {}, "mark_names": MARKS,
        "result": result, "outcome": outcome_text(result) if result else "",
        "ranked": candidate_rows(result, {str(x["person_id"]): x["position"]
                                          for x in candidates}) if result else [], "errors": errors or {},
        "owner": "owner" in c.roles, "mine": mine,
        "recorded": recorded(request.query.get("done", ""), vote.get("seats") or 0)},
        status=status)


async def cast(request: web.Request) -> web.StreamResponse:
    """One mark per candidate from the form; more approvals than seats is refused here with
    the marks kept, as meetings would refuse it."""
    c = compound_of(request)
    cid, vid = str(c.compound_id), request.match_info["vote_id"]
    meetings = api(request, "meetings", cid)
    base = f"/v1/compounds/{cid}/votes/{vid}"
    vote = await meetings.get(base)
    if vote["rule"] != "committee_election":
        raise web.HTTPNotFound()
    item = await meetings.get(f"/v1/compounds/{cid}/proposals/{vote['proposal_id']}")
    data = await form(request)
    ids = [str(x["person_id"]) for x in await meetings.get_all(f"{base}/candidates")]
    marks = {p: str(data.get(f"mark-{p}", "abstain")) for p in ids}
    marks = {p: m if m in MARKS else "abstain" for p, m in marks.items()}
    approve = [p for p in ids if marks[p] == "agree"]
    oppose = [p for p in ids if marks[p] == "oppose"]
    if len(approve) > (vote.get("seats") or 0):
        return await page(request, vote, item, {
            "ballot": f"最多只能赞成 {vote['seats']} 名候选人 (应选席位数), 您赞成了 {len(approve)} 名"},
            marks, status=422)
    try:
        await meetings.post(f"{base}/election-ballots", {"approve": approve, "oppose": oppose})
    except ApiError as exc:
        if exc.status == 404:
            raise
        return await page(request, vote, item, {"ballot": exc.detail}, marks, status=422)
    raise redirect(f"/c/{cid}/votes/{vid}?done=ballot-{len(approve)}-{len(oppose)}")
