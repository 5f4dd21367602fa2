"""Story §1: 阳光花园 — residents' complaints about the hot top floors become a renovation.

Across every running process: the directory holds the owners; residents report and co-sign
in issues until the threshold takes it to the council (an event meetings turns into a proposed
agenda item); the party branch convenes a 党群议事会 with it; a renovation proposal (民法典
Art. 278 item 7) runs as a ProposalWorkflow started over the workflow API: consultation with
opinions counted by the workflow (events through the bridge), a revised version, the statutory
vote opened by the workflow, ballots, the close, and — learned from linli.meetings.vote.closed
through the bridge — implementation, milestones, acceptance, satisfaction, completed.

The roll (worked by hand; area in 0.01 m², one headcount per entry):
  陈建国, who bought 1-501, 1-601 and 1-602 — one entry: 8800 + 12000 + 9550 = 30350
  the developer's unsold 1-101 and 1-102       — one entry: 7000 + 6500         = 13500
  1-401 owned jointly by 郑丽娟 and 刘德明      — one entry:                      8800
  nine more owners, one flat each: 1-201 8800, 1-202 7500, 1-301 8800, 1-302 7500, 1-402 7500,
  1-502 7500, 2-101 9000, 2-102 9000, 2-201 9000
  total 127250 over 12 heads.
Eight take part (2/3 of 12 heads exactly; area 95750 ≥ ⌈127250 × 2/3⌉ = 84834): six agree
(30350 + 8800 + 8800 + 8800 + 9000 + 9000 = 74750 ≥ ⌈95750 × 3/4⌉ = 71813; 6 heads = 3/4 of 8
exactly), 王志强 opposes (7500), the developer abstains on paper (13500) — which counts as taking
part: without it only 7 heads would take part and the vote would fail its quorum.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from tests.e2e.conftest import (
    Http,
    at_step,
    close_vote_early,
    on_version,
    published,
    until,
    workflow_state,
)

FLATS: list[tuple[str, str, int, str, tuple[str, ...], str]] = [
    # building, number, floor, area, owners, status
    ("1号楼", "101", 1, "70.00", (), "unsold"), ("1号楼", "102", 1, "65.00", (), "unsold"),
    ("1号楼", "201", 2, "88.00", ("林美华",), "delivered"),
    ("1号楼", "202", 2, "75.00", ("王志强",), "delivered"),
    ("1号楼", "301", 3, "88.00", ("黄秀英",), "delivered"),
    ("1号楼", "302", 3, "75.00", ("吴国平",), "delivered"),
    ("1号楼", "401", 4, "88.00", ("郑丽娟", "刘德明"), "delivered"),
    ("1号楼", "402", 4, "75.00", ("许文杰",), "delivered"),
    ("1号楼", "501", 5, "88.00", ("陈建国",), "delivered"),
    ("1号楼", "502", 5, "75.00", ("周海燕",), "delivered"),
    ("1号楼", "601", 6, "120.00", ("陈建国",), "delivered"),
    ("1号楼", "602", 6, "95.50", ("陈建国",), "delivered"),
    ("2号楼", "101", 1, "90.00", ("蔡明辉",), "delivered"),
    ("2号楼", "102", 1, "90.00", ("杨丽萍",), "delivered"),
    ("2号楼", "201", 2, "90.00", ("洪志伟",), "delivered"),
]
STAFF = {"党支部书记 李红梅": "party_branch", "社区主任 张伟": "community",
         "街道干部 陈志明": "street_office", "居民代表 林美华": "resident_reps"}
AGREE = ["陈建国", "林美华", "黄秀英", "郑丽娟", "蔡明辉", "杨丽萍"]
HAND_COUNTED = {  # threshold → (needed, reached)
    "participation_area": (84834, 95750), "participation_headcount": (8, 8),
    "approval_area": (71813, 74750), "approval_headcount": (6, 6),
}


class World:
    """The compound as registered in the directory, and tokens to act as its people."""

    def __init__(self, http: Http) -> None:
        self.http = http
        self.p = http.platform
        self.street = self.p.token(roles=["street_office"], compounds=["*"])
        self.id = ""
        self.people: dict[str, str] = {}
        self.orgs: dict[str, str] = {}

    @property
    def c(self) -> str:
        return f"/v1/compounds/{self.id}"

    def staff(self, role: str, person: str | None = None) -> str:
        return self.p.token(roles=[role], compounds=[self.id], person=person)

    def owner(self, name: str) -> str:
        return self.p.token(roles=["owner", "resident"], compounds=[self.id],
                            person=self.people[name])

    async def person(self, name: str) -> str:
        if name not in self.people:
            body = {"name": name.split()[-1], "phone": f"139{uuid.uuid4().int % 10**8:08d}"}
            self.people[name] = (await self.http.post("directory", "/v1/people", self.street, body,
                                                      status=201))["id"]
        return self.people[name]

    async def register(self) -> None:
        compound = await self.http.post("directory", "/v1/compounds", self.street, {
            "name": f"阳光花园 {uuid.uuid4().hex[:6]}", "community": "阳光社区", "street": "双阳街道",
            "district": "泉州市洛江区"}, status=201)
        self.id = compound["id"]
        buildings = {}
        for name in ("1号楼", "2号楼"):
            buildings[name] = (await self.http.post("directory", f"{self.c}/buildings", self.street,
                                                    {"name": name, "floors": 6}, status=201))["id"]
        for building, number, floor, area, owners, status in FLATS:
            unit = await self.http.post("directory", f"{self.c}/units", self.street, {
                "building_id": buildings[building], "floor": floor, "number": number, "area": area,
                "status": status}, status=201)
            for name in owners:
                await self.http.post("directory", f"{self.c}/units/{unit['id']}/owners", self.street,
                                     {"person_id": await self.person(name)})
        for title, kind in STAFF.items():
            org = await self.http.post("directory", f"{self.c}/organisations", self.street, {
                "kind": kind, "name": f"阳光花园{kind}"}, status=201)
            self.orgs[kind] = org["id"]
            await self.http.post("directory", f"{self.c}/organisations/{org['id']}/roles",
                                 self.street, {"person_id": await self.person(title),
                                               "title": title.split()[0],
                                               "starts_on": "2026-01-01"}, status=201)


async def test_hot_top_floors_become_a_renovation_voted_built_and_accepted(http: Http) -> None:
    began = dt.datetime.now(dt.UTC)
    world = World(http)
    await world.register()
    c = world.c
    roll = await http.get("directory", f"{c}/roll", world.staff("community"))
    assert (len(roll["entries"]), roll["total_area_centi"], roll["total_headcount"]) == (12, 127250, 12)
    kinds = {e["entry_id"]: (e["kind"], e["area_centi"], e["headcount"]) for e in roll["entries"]}
    assert kinds[f"person:{world.people['陈建国']}"] == ("owner", 30350, 1)
    assert kinds["developer"] == ("developer", 13500, 1)

    agenda_item = await complaints_reach_the_council(http, world)
    meeting = await council_meets(http, world, agenda_item)
    branch = world.staff("party_branch", world.people["党支部书记 李红梅"])
    proposal = await http.post("meetings", f"{c}/proposals", branch, {
        "title": "阳光花园顶楼隔热及平改坡改造", "matter": "art278_7", "funding": "maintenance_fund",
        "budget_fen": 48_000_000, "body": "顶楼屋面加铺隔热层, 平屋面改为坡屋面; 使用专项维修资金。"},
        status=201)
    assert proposal["matter_label"] == "改建、重建建筑物及其附属设施"
    await http.post("meetings", f"{c}/meetings/{meeting}/agenda", branch,
                    {"proposal_id": proposal["id"], "presenter": "李红梅"}, status=201)

    w = await start_workflow(http, world, proposal["id"], branch)
    await consultation(http, world, proposal["id"], w, branch)
    vote_id = await statutory_vote(http, world, proposal["id"], w, branch)
    await carried_out(http, world, w, branch, vote_id)
    done = await http.get("meetings", f"{c}/proposals/{proposal['id']}", world.owner("吴国平"))
    assert (done["status"], done["current_version"]) == ("passed", 2)
    # every step reached the bus (the worker's outbox relay), for notify and other apps
    steps = await published(http.platform.nats_url, "linli.workflows.proposal.step_changed",
                            proposal["id"], began)
    assert [(e["data"]["previous"], e["data"]["step"], e["data"]["outcome"]) for e in steps] == [
        (None, "draft", ""), ("draft", "consultation", "started"),
        ("consultation", "vote", "closed"), ("vote", "implementation", "passed"),
        ("implementation", "acceptance", "done"), ("acceptance", "satisfaction", "approved"),
        ("satisfaction", "completed", "closed")]
    assert {e["compoundid"] for e in steps} == {world.id}

    # afterwards the compound founds its owners' committee
    committee = await http.post("directory", f"{c}/organisations", world.street, {
        "kind": "owners_committee", "name": "阳光花园业主委员会"}, status=201)
    roster = await http.get("directory", f"{c}/roster", world.owner("陈建国"))
    assert committee["id"] in {e["organisation"]["id"] for e in roster["items"]}


async def complaints_reach_the_council(http: Http, world: World) -> str:
    """Report, find it as similar, co-sign to the threshold; meetings proposes the item."""
    c = world.c
    settings = await http.call("PUT", "issues", f"{c}/issue-settings", world.staff("community"),
                               json={"cosign_threshold": 3, "reopen_window_hours": 72})
    assert settings["cosign_threshold"] == 3
    issue = await http.post("issues", f"{c}/issues", world.owner("陈建国"), {
        "category": "common_parts", "title": "顶楼夏天太热", "area": "roof",
        "description": "六楼屋面没有隔热, 七八月室内超过 35 度, 老人孩子受不了。"}, status=201)
    similar = await http.get("issues", f"{c}/issues/similar?category=common_parts&title=顶楼太热",
                             world.owner("周海燕"))
    assert issue["id"] in [s["id"] for s in similar["items"]]
    for n, name in enumerate(["周海燕", "许文杰", "郑丽娟"], start=1):
        signed = await http.post("issues", f"{c}/issues/{issue['id']}/cosign", world.owner(name),
                                 status=201)
        assert (signed["cosign_count"], signed["escalated"]) == (n, n == 3)
    await http.post("issues", f"{c}/issues/{issue['id']}/cosign", world.owner("周海燕"), status=409)
    escalated = await http.get("issues", f"{c}/issues/{issue['id']}", world.owner("陈建国"))
    assert escalated["escalated_at"] is not None and escalated["escalation_reason"] == "cosign_threshold"

    async def proposed() -> list[dict[str, Any]]:
        items = await http.get("meetings", f"{c}/agenda-items", world.owner("陈建国"))
        return [i for i in items["items"] if i["issue_id"] == issue["id"]]
    items = await until("agenda item from the escalated issue", proposed)
    assert [(i["title"], i["source"], i["meeting_id"]) for i in items] == [
        ("居民诉求: 顶楼夏天太热", "issue", None)]
    return str(items[0]["id"])


async def council_meets(http: Http, world: World, item_id: str) -> str:
    """The party branch convenes a 党群议事会 with the street, community and representatives."""
    c = world.c
    secretary = world.staff("party_branch", world.people["党支部书记 李红梅"])
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    meeting = await http.post("meetings", f"{c}/meetings", secretary, {
        "kind": "party_masses_council", "title": "顶楼隔热改造党群议事会", "place": "社区党群服务中心",
        "starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
        "convener_org_id": world.orgs["party_branch"],
        "organisation_ids": [world.orgs[k] for k in ("community", "street_office", "resident_reps")]},
        status=201)
    assert meeting["kind_label"] == "党群议事会"
    assert {i["name"] for i in meeting["invitees"]} == {"李红梅", "张伟", "陈志明", "林美华"}
    item = await http.post("meetings", f"{c}/meetings/{meeting['id']}/agenda", secretary,
                           {"item_id": item_id, "presenter": "林美华"}, status=201)
    assert (item["id"], item["meeting_id"], item["title"]) == (item_id, meeting["id"],
                                                               "居民诉求: 顶楼夏天太热")
    left = await http.get("meetings", f"{c}/agenda-items", secretary)
    assert item_id not in [i["id"] for i in left["items"]]
    return str(meeting["id"])


# Real-time windows the story acts inside (opinions and a revision during the consultation,
# ratings during satisfaction), wide enough for a busy machine; the story waits them out.
CONSULTATION, SATISFACTION = 15, 10


async def start_workflow(http: Http, world: World, proposal_id: str, branch: str) -> str:
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=60)).isoformat()
    started = await http.post("workflows", "/v1/workflows", branch, {
        "type": "proposal", "key": f"renovation-{proposal_id}", "input": {
            "compound_id": world.id, "proposal_id": proposal_id, "convener": "阳光花园党支部",
            "consultation_seconds": CONSULTATION, "consultation_reminders": [],
            "vote_seconds": 600, "vote_reminders": [], "vote_grace_seconds": 3600,
            "acceptance_seconds": 600, "satisfaction_seconds": SATISFACTION,
            "milestones": [{"name": "屋面隔热层", "due_at": due, "owner": "物业"},
                           {"name": "平改坡", "due_at": due, "owner": "施工单位"}]}}, status=201)
    http.platform.started.append(started["workflow_id"])
    assert (started["workflow_id"], started["created"]) == (f"proposal-{proposal_id}", True)
    return f"/v1/workflows/{started['workflow_id']}"


async def consultation(http: Http, world: World, proposal_id: str, w: str, branch: str) -> None:
    """Opinions on version 1 counted by the workflow; version 2 restarts the consultation."""
    p = f"{world.c}/proposals/{proposal_id}"
    view = await at_step(http, w, branch, "consultation")
    assert view["state"]["version"] == 1

    async def open_in_meetings() -> dict[str, Any] | None:
        found: dict[str, Any] | None = await http.get_if_found("meetings", f"{p}/consultation",
                                                               branch)
        return found if found and found["status"] == "open" else None
    assert (await until("consultation open in meetings", open_in_meetings))["version"] == 1
    for name, stance, text in [("陈建国", "support", "早该改了"), ("黄秀英", "support", "支持"),
                               ("吴国平", "oppose", "费用太高"),
                               ("王志强", "suggest", "施工避开高考期间")]:
        await http.post("meetings", f"{p}/opinions", world.owner(name),
                        {"stance": stance, "text": text}, status=201)

    async def counted() -> dict[str, Any] | None:
        state = (await workflow_state(http, w, branch))["state"]
        return state if state["opinions"] == {"support": 2, "oppose": 1, "suggest": 1} else None
    await until("opinions counted by the workflow", counted, within=CONSULTATION)

    revised = await http.post("workflows", f"{w}/updates/revise", branch, {
        "body": "顶楼屋面加铺隔热层, 平屋面改为坡屋面; 施工避开六月; 预算下调。",
        "change_summary": "采纳意见: 避开高考期间施工, 预算由 48 万元降为 42 万元",
        "budget_fen": 42_000_000, "window": "restart"})
    assert revised["result"] == 2
    versions = await http.get("meetings", f"{p}/versions", world.owner("吴国平"))
    assert [(v["number"], v["budget_fen"]) for v in versions["items"]] == [(1, 48_000_000), (2, 42_000_000)]
    # the workflow reopens the consultation on version 2 just after `revise` answers; until
    # then an opinion still lands on version 1 (a race, reported)
    await until("consultation restarted on version 2", lambda: on_version(http, p, branch, 2),
                within=CONSULTATION)
    await http.post("meetings", f"{p}/opinions", world.owner("吴国平"),
                    {"stance": "support", "text": "降价后支持"}, status=201)
    summary = await http.get("meetings", f"{p}/opinions/summary", branch)
    assert [(v["version"], v["support"], v["oppose"], v["suggest"]) for v in summary["versions"]] \
        == [(1, 2, 1, 1), (2, 1, 0, 0)]


async def statutory_vote(http: Http, world: World, proposal_id: str, w: str, branch: str) -> str:
    """The workflow opens the vote when consultation ends; owners vote; the branch closes it."""
    # the step is published before the vote is opened in meetings: wait for its id
    view = await at_step(http, w, branch, "vote", lambda state: state["vote_id"] is not None)
    assert view["state"]["opinions"] == {"support": 3, "oppose": 1, "suggest": 1}
    vote_id = view["state"]["vote_id"]
    v = f"{world.c}/votes/{vote_id}"
    vote = await http.get("meetings", v, branch)
    assert (vote["rule"], vote["version"], vote["status"], vote["secret"]) == (
        "civil_code_major", 2, "open", False)
    assert vote["roll"] == {"entries": 12, "area_centi": 127250, "headcount": 12}

    first = await http.post("meetings", f"{v}/ballots", world.owner("陈建国"),
                            {"choice": "oppose"}, status=201)
    for name in AGREE:  # 陈建国 changes his mind before the close: an open vote allows it
        ballot = await http.post("meetings", f"{v}/ballots", world.owner(name),
                                 {"choice": "agree"}, status=201)
        assert (ballot["channel"], ballot["changed"]) == ("online", name == "陈建国")
    assert first["entry_id"] == f"person:{world.people['陈建国']}"  # three flats, one ballot
    await http.post("meetings", f"{v}/ballots", world.owner("王志强"), {"choice": "oppose"},
                    status=201)
    # 刘德明 co-owns 1-401 with 郑丽娟: one flat, one ballot, which his answer replaces
    joint = await http.post("meetings", f"{v}/ballots", world.owner("刘德明"), {"choice": "agree"},
                            status=201)
    assert joint["changed"] is True and joint["entry_id"].startswith("owners:")
    officer = world.staff("officer")
    paper = await http.post("meetings", f"{v}/paper-ballots", officer, {
        "choice": "abstain", "entry_id": "developer", "proxy_name": "开发商授权代表 郭先生"},
        status=201)
    assert paper["entry_id"] == "developer"

    turnout = await http.get("meetings", f"{v}/turnout", world.owner("洪志伟"))
    assert (turnout["ballots"], turnout["participating_area_centi"],
            turnout["participating_headcount"]) == (8, 95750, 8)
    waiting = await http.get("meetings", f"{v}/non-voters", branch)
    assert set(waiting["person_ids"]) == {world.people[n] for n in ("吴国平", "许文杰", "周海燕",
                                                                     "洪志伟")}

    result = await close_vote_early(http, w, v, branch)
    assert (result["outcome"], result["final"], result["rule"]) == ("passed", True, "civil_code_major")
    thresholds = {t["name"]: (t["needed"], t["reached"], t["met"])
                  for t in result["result"]["thresholds"]}
    assert thresholds == {k: (*nr, True) for k, nr in HAND_COUNTED.items()}
    counts = result["result"]["counts"]
    assert (counts["agree_area_centi"], counts["oppose_area_centi"], counts["abstain_area_centi"],
            counts["agree_headcount"]) == (74750, 7500, 13500, 6)
    return str(vote_id)


async def carried_out(http: Http, world: World, w: str, branch: str, vote_id: str) -> None:
    """The vote.closed event moves the workflow on; works, acceptance, satisfaction, done."""
    view = await at_step(http, w, branch, "implementation")
    # the vote closes in 600 s and the fallback close waits an hour more: only the event says so
    [learned] = view["state"]["votes"]
    assert (learned["vote_id"], learned["outcome"], learned["version"]) == (vote_id, "passed", 2)

    progress = [("屋面隔热层", 50, "隔热层铺设过半"), ("屋面隔热层", 100, "隔热层完工"),
                ("平改坡", 100, "坡屋面完工")]
    for n, (milestone, percent, note) in enumerate(progress, start=1):
        sent = await http.post("workflows", f"{w}/signals/milestone_progress", branch,
                               {"milestone": milestone, "percent": percent, "note": note},
                               status=202)
        assert sent["step"] == "implementation"
        if n == 1:
            async def half() -> list[int] | None:
                state = (await workflow_state(http, w, branch))["state"]
                seen = [m["percent"] for m in state["milestones"]]
                return seen if seen == [50, 0] else None
            await until("milestone at 50 %", half, within=10)
    await at_step(http, w, branch, "acceptance")
    accepted = await http.post("workflows", f"{w}/updates/accept", branch, {
        "approved": True, "signed_by": ["李红梅", "林美华", "陈建国"]})
    assert accepted["result"] == "satisfaction"
    await at_step(http, w, branch, "satisfaction")
    # residents rate in their own name, once each (the rater is the token's person)
    for name, score in [("陈建国", 5), ("周海燕", 4), ("吴国平", 4)]:
        rated = await http.post("workflows", f"{w}/rating", world.owner(name), {"score": score},
                                status=202)
        assert rated["person_id"] == world.people[name]
    await http.post("workflows", f"{w}/rating", world.owner("陈建国"), {"score": 1}, status=409)

    async def completed() -> dict[str, Any] | None:
        found = await workflow_state(http, w, branch)
        return found if found["status"] == "completed" else None
    final = (await until("workflow completed", completed))["state"]
    assert final["step"] == "completed"
    assert (final["ratings"], final["satisfaction"]) == (3, 4.33)
    assert [m["percent"] for m in final["milestones"]] == [100, 100]
    assert [h["step"] for h in final["history"]] == [
        "draft", "consultation", "vote", "implementation", "acceptance", "satisfaction", "completed"]
