"""Story §1 (阳光花园, "collects opinions and revises the plan"): once the revised plan is out,
what residents say is said about the revised plan.

The convener publishes version 2 through the workflow's `revise` update; when it answers, the
proposal's current version is 2 and residents read version 2. An opinion given from then on
must be recorded on version 2, not on the version it replaced.
"""

from __future__ import annotations

import uuid

from tests.e2e.conftest import Http, at_step, on_version, until


async def test_an_opinion_given_after_the_revision_is_about_the_revised_version(http: Http) -> None:
    street = http.platform.token(roles=["street_office"], compounds=["*"])
    compound = await http.post("directory", "/v1/compounds", street, {
        "name": f"阳光花园 {uuid.uuid4().hex[:6]}", "community": "阳光社区", "street": "双阳街道"},
        status=201)
    cid = compound["id"]
    c = f"/v1/compounds/{cid}"
    building = await http.post("directory", f"{c}/buildings", street, {"name": "3号楼", "floors": 6},
                               status=201)
    residents = []
    for number, name in [("601", "黄志坚"), ("602", "柯美玲"), ("501", "蔡国栋"), ("502", "林淑贞")]:
        unit = await http.post("directory", f"{c}/units", street, {
            "building_id": building["id"], "floor": int(number[0]), "number": number,
            "area": "98.00"}, status=201)
        owner = await http.post("directory", "/v1/people", street, {"name": name}, status=201)
        await http.post("directory", f"{c}/units/{unit['id']}/owners", street,
                        {"person_id": owner["id"]})
        residents.append(http.platform.token(roles=["owner", "resident"], compounds=[cid],
                                             person=owner["id"]))
    branch = http.platform.token(roles=["party_branch"], compounds=[cid], person=str(uuid.uuid4()))

    proposal = await http.post("meetings", f"{c}/proposals", branch, {
        "title": "3号楼顶楼隔热改造", "matter": "art278_7", "body": "屋面加铺隔热层。"}, status=201)
    p = f"{c}/proposals/{proposal['id']}"
    started = await http.post("workflows", "/v1/workflows", branch, {
        "type": "proposal", "key": f"heat-{proposal['id']}", "input": {
            "compound_id": cid, "proposal_id": proposal["id"], "convener": "阳光花园党支部",
            "consultation_seconds": 120, "consultation_reminders": []}}, status=201)
    http.platform.started.append(started["workflow_id"])
    w = f"/v1/workflows/{started['workflow_id']}"
    await at_step(http, w, branch, "consultation")
    await until("consultation open on version 1", lambda: on_version(http, p, branch, 1))

    revised = await http.post("workflows", f"{w}/updates/revise", branch, {
        "body": "屋面加铺隔热层并改为坡屋面。", "change_summary": "增加平改坡", "window": "restart"})
    assert revised["result"] == 2
    # four residents who have just read version 2 say what they think of it
    opinions = [await http.post("meetings", f"{p}/opinions", resident,
                                {"stance": "support", "text": "坡屋面好, 支持"}, status=201)
                for resident in residents]
    current = await http.get("meetings", p, residents[0])
    assert (current["current_version"], current["body"]) == (2, "屋面加铺隔热层并改为坡屋面。")
    try:
        assert [o["version"] for o in opinions] == [2, 2, 2, 2], \
            "opinions on the revised plan were recorded on version 1"
    finally:
        await http.post("workflows", f"{w}/cancel", branch, {"reason": "演示结束, 撤回议案"})
    await at_step(http, w, branch, "cancelled")
