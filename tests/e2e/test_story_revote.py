"""Story §1 (三盛四季公园): a rejected vote, a revised plan, a second vote that passes.

Unused rooms are to become a library and a lit basketball court — changing the use of common
parts (民法典 Art. 278 item 8, so 3/4 of those taking part, by area and by heads). The first
plan is voted down (the convener closes the vote once all have voted); the workflow waits for
the convener's decision; the revised plan goes back to consultation and a second vote, which
passes when it closes at its deadline; the works are then done and signed off.

Roll (0.01 m²): 1-101 9000, 1-102 9000, 1-201 8000, 1-202 8000, 1-301 12000, 1-302 6000 —
total 52000 over 6 heads; everyone takes part both times.
  Round 1: agree 101, 102, 301 = 30000 < ⌈52000 × 3/4⌉ = 39000, 3 heads < ⌈6 × 3/4⌉ = 5
           (oppose 201, 202; 302 abstains) → failed_approval.
  Round 2: agree 101, 102, 201, 301, 302 = 44000 ≥ 39000, 5 heads ≥ 5 (202 opposes) → passed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from tests.e2e.conftest import Http, at_step, close_vote_early, on_version, until, workflow_state

FLATS = {"101": ("90.00", "苏建华"), "102": ("90.00", "傅雅琴"), "201": ("80.00", "庄明远"),
         "202": ("80.00", "施丽君"), "301": ("120.00", "骆振东"), "302": ("60.00", "卢晓燕")}
ROUND_1 = {"101": "agree", "102": "agree", "301": "agree", "201": "oppose", "202": "oppose",
           "302": "abstain"}
ROUND_2 = {**ROUND_1, "201": "agree", "302": "agree"}


async def register(http: Http) -> tuple[str, dict[str, str]]:
    """A compound with six owner-occupied flats; returns its id and flat → owner id."""
    street = http.platform.token(roles=["street_office"], compounds=["*"])
    compound = await http.post("directory", "/v1/compounds", street, {
        "name": f"三盛四季公园 {uuid.uuid4().hex[:6]}", "community": "四季社区", "street": "万安街道"},
        status=201)
    c = f"/v1/compounds/{compound['id']}"
    building = await http.post("directory", f"{c}/buildings", street, {"name": "1号楼", "floors": 3},
                               status=201)
    owners = {}
    for number, (area, name) in FLATS.items():
        unit = await http.post("directory", f"{c}/units", street, {
            "building_id": building["id"], "floor": int(number[0]), "number": number, "area": area},
            status=201)
        person = await http.post("directory", "/v1/people", street, {"name": name}, status=201)
        await http.post("directory", f"{c}/units/{unit['id']}/owners", street,
                        {"person_id": person["id"]})
        owners[number] = person["id"]
    return compound["id"], owners


async def vote_round(http: Http, cid: str, owners: dict[str, str], w: str, staff: str,
                     choices: dict[str, str], after: str | None, close: bool) -> dict[str, Any]:
    """Wait for the workflow to open a new vote, cast the ballots online; the convener closes
    it early, or it closes at its deadline (meetings' sweep)."""
    view = await at_step(http, w, staff, "vote",
                         lambda state: state["vote_id"] not in (None, after))
    vote_id = view["state"]["vote_id"]
    for number, choice in choices.items():
        token = http.platform.token(roles=["owner"], compounds=[cid], person=owners[number])
        await http.post("meetings", f"/v1/compounds/{cid}/votes/{vote_id}/ballots", token,
                        {"choice": choice}, status=201)
    v = f"/v1/compounds/{cid}/votes/{vote_id}"
    if close:
        return await close_vote_early(http, w, v, staff)

    async def at_deadline() -> dict[str, Any] | None:
        found: dict[str, Any] = await http.get("meetings", f"{v}/result", staff)
        return found if found["final"] else None
    return await until("vote closed at its deadline", at_deadline)


def thresholds(result: dict[str, Any]) -> dict[str, tuple[int, int, bool]]:
    return {t["name"]: (t["needed"], t["reached"], t["met"]) for t in result["result"]["thresholds"]}


async def test_a_rejected_plan_is_revised_and_passes_a_second_vote(http: Http) -> None:
    cid, owners = await register(http)
    c = f"/v1/compounds/{cid}"
    community = http.platform.token(roles=["community"], compounds=[cid])
    proposal = await http.post("meetings", f"{c}/proposals", community, {
        "title": "闲置用房改建图书室和灯光篮球场", "matter": "art278_8", "budget_fen": 26_000_000,
        "body": "地下室闲置用房改为图书室; 屋顶平台改为灯光篮球场, 开放至晚上十点。"}, status=201)
    p = f"{c}/proposals/{proposal['id']}"
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    started = await http.post("workflows", "/v1/workflows", community, {
        "type": "proposal", "key": f"rooms-{proposal['id']}", "input": {
            "compound_id": cid, "proposal_id": proposal["id"], "convener": "四季社区居委会",
            "convener_org": "community",
            "consultation_seconds": 6, "consultation_reminders": [], "vote_seconds": 12,
            "vote_reminders": [], "vote_grace_seconds": 3600, "decision_seconds": 600,
            "max_rounds": 2, "acceptance_seconds": 600, "satisfaction_seconds": 2,
            "milestones": [{"name": "图书室和球场", "due_at": due}]}}, status=201)
    http.platform.started.append(started["workflow_id"])
    w = f"/v1/workflows/{started['workflow_id']}"

    first = await vote_round(http, cid, owners, w, community, ROUND_1, after=None, close=True)
    assert (first["outcome"], first["result"]["outcome"], first["version"]) == (
        "rejected", "failed_approval", 1)
    assert thresholds(first) == {
        "participation_area": (34667, 52000, True), "participation_headcount": (4, 6, True),
        "approval_area": (39000, 30000, False), "approval_headcount": (5, 3, False)}

    # the workflow learns of the rejection from the event and waits for the convener
    # (the step is visible a moment before its deadline replaces the vote's: reported)
    rejected = (await at_step(http, w, community, "rejected",
                              lambda state: "decision" in state["deadlines"]))["state"]
    assert [(v["vote_id"], v["outcome"]) for v in rejected["votes"]] == [
        (str(first["vote_id"]), "rejected")]
    assert set(rejected["deadlines"]) == {"decision"}
    assert (await http.get("meetings", p, community))["status"] == "rejected"
    # only the convener (the community here) decides, and voting again needs a revision
    outsider = http.platform.token(roles=["party_branch"], compounds=[cid], person=str(uuid.uuid4()))
    await http.post("workflows", f"{w}/updates/decide", outsider, {"action": "abandon"}, status=403)
    await http.post("workflows", f"{w}/updates/decide", community, {"action": "revise"},
                    status=409)
    decided = await http.post("workflows", f"{w}/updates/decide", community, {
        "action": "revise", "reason": "采纳反对意见后重新表决", "revision": {
            "body": "地下室闲置用房改为图书室; 篮球场移至北侧空地, 晚上九点关灯。",
            "change_summary": "篮球场远离住宅, 缩短开放时间", "budget_fen": 22_000_000}})
    assert decided["result"] == "revise"

    view = await at_step(http, w, community, "consultation")
    assert (view["state"]["round"], view["state"]["version"]) == (2, 2)
    # the opinion must land inside the 6-second window (sized for a busy machine)
    await until("consultation on version 2", lambda: on_version(http, p, community, 2), within=6)
    resident = http.platform.token(roles=["owner"], compounds=[cid], person=owners["202"])
    await http.post("meetings", f"{p}/opinions", resident,
                    {"stance": "support", "text": "球场挪开后可以接受"}, status=201)

    second = await vote_round(http, cid, owners, w, community, ROUND_2,
                              after=str(first["vote_id"]), close=False)
    assert (second["outcome"], second["version"]) == ("passed", 2)
    assert thresholds(second) == {
        "participation_area": (34667, 52000, True), "participation_headcount": (4, 6, True),
        "approval_area": (39000, 44000, True), "approval_headcount": (5, 5, True)}

    await at_step(http, w, community, "implementation")
    await http.post("workflows", f"{w}/signals/milestone_progress", community,
                    {"milestone": "图书室和球场", "percent": 100}, status=202)
    await at_step(http, w, community, "acceptance")
    await http.post("workflows", f"{w}/updates/accept", community,
                    {"approved": True, "signed_by": ["骆振东", "卢晓燕"]})

    async def completed() -> dict[str, Any] | None:
        found = await workflow_state(http, w, community)
        return found if found["status"] == "completed" else None
    final = (await until("workflow completed", completed))["state"]
    assert (final["round"], final["version"]) == (2, 2)
    assert [(v["outcome"], v["version"]) for v in final["votes"]] == [("rejected", 1), ("passed", 2)]
    assert [h["step"] for h in final["history"]] == [
        "draft", "consultation", "vote", "rejected", "consultation", "vote", "implementation",
        "acceptance", "satisfaction", "completed"]
    assert final["opinions"] == {"support": 1, "oppose": 0, "suggest": 0}
    done = await http.get("meetings", p, resident)
    assert (done["status"], done["current_version"], done["budget_fen"]) == ("passed", 2, 22_000_000)
