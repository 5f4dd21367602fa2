"""Story §1 (阳光花园): "咱小区没有业委会" — the owners' committee founded and elected lawfully.

Twelve flats of 100.00 m² (120000 in 0.01 m², 12 heads), all delivered. The owners ask; the
street office confirms; a preparatory group (three owners, the developer, the street office) is
published; the rules and the statute are proposals in meetings; nine owners are nominated for
seven seats and the list is published; the general meeting is noticed sixteen days ahead; the
election runs in meetings, online, every candidate judged on their own:
  11 owners take part: 110000 ≥ ⌈120000 × 2/3⌉ = 80000 and 11 ≥ ⌈12 × 2/3⌉ = 8.
  Owners 1–8 approve candidates 1–7; owners 9–11 approve candidates 1–5, 8 and 9:
  candidates 1–5 11 heads, 6–7 8 heads (> 11/2: needed 6), 8–9 3 heads → seven elected.
The meeting adopts the rules and the statute (10 agree, 1 opposes). The members choose a chair
and a vice-chair; the street office takes the filing; the committee
appears on the directory's 1+3+N roster with its roles and the five-year term.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from tests.e2e.conftest import Http, at_step, until, workflow_state

NAMES = ["陈志明", "林淑芬", "黄建国", "张秀英", "王丽", "李强", "吴海燕", "郑国平", "刘佳",
         "蔡文斌", "许美玲", "洪天佑"]


async def register(http: Http) -> tuple[str, list[str], str]:
    street = http.platform.token(roles=["street_office"], compounds=["*"])
    compound = await http.post("directory", "/v1/compounds", street, {
        "name": f"阳光花园 {uuid.uuid4().hex[:6]}", "community": "万安社区", "street": "万安街道"},
        status=201)
    c = f"/v1/compounds/{compound['id']}"
    building = await http.post("directory", f"{c}/buildings", street, {"name": "1号楼", "floors": 6},
                               status=201)
    owners = []
    for i, name in enumerate(NAMES):
        unit = await http.post("directory", f"{c}/units", street, {
            "building_id": building["id"], "floor": i // 2 + 1, "number": f"{i // 2 + 1}0{i % 2 + 1}",
            "area": "100.00"}, status=201)
        person = await http.post("directory", "/v1/people", street, {"name": name}, status=201)
        await http.post("directory", f"{c}/units/{unit['id']}/owners", street,
                        {"person_id": person["id"]})
        owners.append(person["id"])
    return compound["id"], owners, street


async def serving(http: Http, cid: str, kind: str, organisation: str, name: str) -> str:
    """A person serving today in one of the compound's organisations: a member of it, whom
    the preparatory group may name (the workflow API checks each one with the directory)."""
    street = http.platform.token(roles=["street_office"], compounds=["*"])
    c = f"/v1/compounds/{cid}"
    org = await http.post("directory", f"{c}/organisations", street,
                          {"kind": kind, "name": organisation}, status=201)
    person = await http.post("directory", "/v1/people", street, {"name": name}, status=201)
    await http.post("directory", f"{c}/organisations/{org['id']}/roles", street, {
        "person_id": person["id"], "title": "代表", "starts_on": "2024-01-01"}, status=201)
    return str(person["id"])


def members(owners: list[str], picks: range, represents: str = "owner") -> list[dict[str, Any]]:
    return [{"person_id": owners[i], "name": NAMES[i], "represents": represents} for i in picks]


async def test_seven_seats_contested_by_nine_owners_found_the_committee(http: Http) -> None:
    cid, owners, _ = await register(http)
    c = f"/v1/compounds/{cid}"
    street = http.platform.token(roles=["street_office"], compounds=[cid], person=str(uuid.uuid4()))
    started = await http.post("workflows", "/v1/workflows", street, {
        "type": "committee", "key": f"found-{cid}",
        "input": {"compound_id": cid, "requested_by": "owners", "publicity_days": 0.00003}},
        status=201)
    http.platform.started.append(started["workflow_id"])
    w = f"/v1/workflows/{started['workflow_id']}"
    state = (await at_step(http, w, street, "requested",
                           lambda s: s["qualification"] is not None))["state"]
    assert state["qualification"] == {"total_area_centi": 120000,
                                      "delivered_area_centi": 120000, "owners": 12}
    await http.post("workflows", f"{w}/updates/confirm", street, {"note": "已核实交付情况"})
    await at_step(http, w, street, "preparatory_group")
    group = [*members(owners, range(3)),
             {"person_id": await serving(http, cid, "partner_unit", "建设单位", "开发商代表"),
              "name": "开发商代表", "represents": "developer"},
             {"person_id": await serving(http, cid, "street_office", "万安街道办事处", "街道代表"),
              "name": "街道代表", "represents": "street_office"}]
    await http.post("workflows", f"{w}/updates/form_group", street, {"members": group})
    await at_step(http, w, street, "rules_and_candidates")  # after the group's publicity

    rules, statute, election = [(await http.post("meetings", f"{c}/proposals", street, {
        "title": title, "matter": matter, "body": body}, status=201))["id"] for title, matter, body in (
        ("业主大会议事规则", "art278_1", "议事规则草案"), ("管理规约", "art278_2", "管理规约草案"),
        ("选举第一届业主委员会", "art278_3", "应选 7 名, 候选人 9 名"))]
    await http.post("workflows", f"{w}/updates/nominate", street, {
        "rules_proposal_id": rules, "statute_proposal_id": statute,
        "candidates": members(owners, range(9))})
    notice = await at_step(http, w, street, "meeting_notice")  # after the candidates' publicity
    entered = dt.datetime.fromisoformat(notice["state"]["history"][-1]["entered_at"])
    await http.post("workflows", f"{w}/updates/schedule_meeting", street,
                    {"meeting_at": (entered + dt.timedelta(days=10)).isoformat()}, status=409)
    await http.post("workflows", f"{w}/updates/schedule_meeting", street, {
        "meeting_at": (entered + dt.timedelta(days=16)).isoformat(),
        "election_proposal_id": election})
    await at_step(http, w, street, "election")

    opened = await http.post("meetings", f"{c}/proposals/{election}/elections", street, {
        "closes_at": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat(), "seats": 7,
        "candidates": [{"person_id": owners[i], "name": NAMES[i]} for i in range(9)]},
        status=201)
    v = f"{c}/votes/{opened['vote']['id']}"
    for voter in range(11):
        picks = range(7) if voter < 8 else [0, 1, 2, 3, 4, 7, 8]
        token = http.platform.token(roles=["owner"], compounds=[cid], person=owners[voter])
        await http.post("meetings", f"{v}/election-ballots", token,
                        {"approve": [owners[i] for i in picks]}, status=201)
    too_many = http.platform.token(roles=["owner"], compounds=[cid], person=owners[11])
    await http.post("meetings", f"{v}/election-ballots", too_many,
                    {"approve": owners[:8]}, status=422)
    result = await http.post("meetings", f"{v}/close", street)
    r = result["result"]
    assert (r["outcome"], r["elected"], r["open_seats"]) == ("complete", owners[:7], 0)
    by_name = {x["name"]: x for x in r["candidates"]}
    seventh = {t["name"]: (t["base"], t["needed"], t["reached"])
               for t in by_name[NAMES[6]]["thresholds"]}
    assert seventh == {"participation_area": (120000, 80000, 110000),
                       "participation_headcount": (12, 8, 11),
                       "approval_area": (110000, 55001, 80000),
                       "approval_headcount": (11, 6, 8)}
    assert by_name[NAMES[7]]["status"] == "not_qualified"

    # the same meeting adopts the rules of procedure and the statute (ordinary Art. 278 votes)
    for pid in (rules, statute):
        vote = await http.post("meetings", f"{c}/proposals/{pid}/votes", street, {
            "closes_at": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()},
            status=201)
        for voter in range(11):
            token = http.platform.token(roles=["owner"], compounds=[cid], person=owners[voter])
            await http.post("meetings", f"{c}/votes/{vote['id']}/ballots", token,
                            {"choice": "agree" if voter < 10 else "oppose"}, status=201)
        adopted = await http.post("meetings", f"{c}/votes/{vote['id']}/close", street)
        assert adopted["outcome"] == "passed"

    # the workflow hears the results through the bridge, then the members choose their officers
    officers = await at_step(http, w, street, "officers",
                             lambda s: s["adoptions"] == {"rules": "passed", "statute": "passed"})
    assert officers["state"]["election"]["elected"] == owners[:7]
    await http.post("workflows", f"{w}/updates/choose_officers", street,
                    {"chair": owners[0], "vice_chairs": [owners[1]]})
    await at_step(http, w, street, "registration")
    today = dt.date.today()
    await http.post("workflows", f"{w}/updates/register", street,
                    {"registered_on": today.isoformat()})
    in_office = (await at_step(http, w, street, "in_office"))["state"]
    assert in_office["organisation_id"]

    async def seated() -> list[dict[str, Any]] | None:
        roster = await http.get("directory", f"{c}/roster?on={today.isoformat()}", street)
        found = [r for r in roster["items"] if r["organisation"]["kind"] == "owners_committee"]
        return found if found and len(found[0]["roles"]) == 7 else None
    (committee,) = await until("the committee on the roster", seated)
    assert committee["organisation"]["name"] == "第1届业主委员会"
    titles = sorted((r["person_id"], r["title"]) for r in committee["roles"])
    assert titles == sorted([(owners[0], "主任"), (owners[1], "副主任")]
                            + [(owners[i], "委员") for i in range(2, 7)])
    assert {r["ends_on"] for r in committee["roles"]} == {in_office["term_ends_on"]}
    steps = [h["step"] for h in (await workflow_state(http, w, street))["state"]["history"]]
    assert steps == ["requested", "preparatory_group", "group_publicity", "rules_and_candidates",
                     "candidate_publicity", "meeting_notice", "election", "officers",
                     "registration", "in_office"]
