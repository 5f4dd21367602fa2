"""The volunteer menu over HTTP against the real PostgreSQL and NATS: registration and review,
publishing, the order flow with its events, illegal moves, concurrent accepts, bad input."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from linli.http import POOL
from services.volunteers import orders
from tests.conftest import assert_problem, bearer
from tests.integration.test_volunteers_support import (  # noqa: F401
    World,
    later,
    ok,
    world_fixture,
)

ORDER = "linli.volunteers.order."


async def test_register_review_publish_and_the_full_order_flow(world: World) -> None:
    w = world
    skills = await ok(await w.app.get(f"{w.base}/volunteer-skills", headers=w.who()))
    assert {s["code"]: s["name"] for s in skills["items"]}["appliance_repair"] == "家电维修"
    v, vol = await w.volunteer("李师傅", "appliance_repair", verify=False, party_member=True,
                               team_id=w.team, availability="周末全天")
    assert v["status"] == "pending" and v["name"] == "李师傅" and v["party_member"] is True
    await assert_problem(await w.app.post(f"{w.base}/service-menu", headers=vol, json={
        "title": "修电视", "skill": "appliance_repair", "duration_minutes": 60,
        "capacity_per_week": 5}), 403, "forbidden")
    await assert_problem(await w.app.post(f"{w.base}/volunteers/{v['id']}/verify",
                                          headers=vol), 403, "forbidden")
    v = await ok(await w.app.post(f"{w.base}/volunteers/{v['id']}/verify",
                                  headers=w.staff("party_branch")))
    assert v["status"] == "verified" and v["verified_by"]
    item = await w.item(vol)
    assert item["volunteer_id"] == v["id"] and item["status"] == "published"
    menu = await ok(await w.app.get(f"{w.base}/service-menu", headers=w.who()))
    assert [i["id"] for i in menu["items"]] == [item["id"]]

    rid = str(uuid.uuid4())
    resident = w.who(rid)
    order = await w.order(resident, item["id"])
    assert order["status"] == "ordered" and order["resident_id"] == rid
    assert order["skill"] == "appliance_repair" and order["volunteer_id"] is None
    accepted = await w.act(order["id"], "accept", vol)
    assert accepted["status"] == "accepted" and accepted["volunteer_id"] == v["id"]
    assert (await w.act(order["id"], "start", vol))["status"] == "in_service"
    done = await w.act(order["id"], "complete", vol, minutes=90, notes="换了电源板")
    assert done["status"] == "completed" and done["minutes"] == 90
    rated = await w.act(order["id"], "rate", resident, score=5, comment="李师傅很耐心")
    assert rated["status"] == "rated" and rated["rating"] == 5

    assert await w.outbox(order["id"]) == [
        ORDER + "placed", ORDER + "assigned", ORDER + "started", ORDER + "completed",
        ORDER + "rated"]
    assert await w.outbox(v["id"]) == ["linli.volunteers.volunteer.registered",
                                       "linli.volunteers.volunteer.verified"]
    assert await w.outbox(item["id"]) == ["linli.volunteers.menu.published"]
    history = await ok(await w.app.get(f"{w.base}/volunteer-orders/{order['id']}/history",
                                       headers=resident))
    assert [h["action"] for h in history["items"]] == [
        "placed", "accept", "start", "complete", "rate"]
    ledger = await ok(await w.app.get(f"{w.base}/service-ledger", headers=w.staff()))
    assert [(e["minutes"], e["hours"], e["rating"], e["volunteer_name"])
            for e in ledger["items"]] == [(90, "1.50", 5, "李师傅")]


async def test_illegal_moves_are_409_and_decline_returns_the_order(world: World) -> None:
    w = world
    v1, vol1 = await w.volunteer("王大姐", "appliance_repair")
    v2, vol2 = await w.volunteer("陈师傅", "appliance_repair")
    item = await w.item(w.staff())
    assert item["volunteer_id"] is None  # published by the community for the team
    rid = str(uuid.uuid4())
    resident = w.who(rid)
    order = await w.order(resident, item["id"])
    oid = order["id"]
    for action, body in [("start", {}), ("complete", {"minutes": 30}), ("rate", {"score": 4})]:
        headers = resident if action == "rate" else vol1
        await assert_problem(await w.act(oid, action, headers, 409, **body), 409,
                             "illegal-transition")
    await w.act(oid, "accept", vol1)
    await assert_problem(await w.act(oid, "accept", vol2, 409), 409, "illegal-transition")
    await assert_problem(await w.act(oid, "start", vol2, 403), 403, "forbidden")
    await assert_problem(await w.act(oid, "decline", vol2, 403, reason="不是我的单"), 403,
                         "forbidden")
    back = await w.act(oid, "decline", vol1, reason="临时出差")
    assert back["status"] == "ordered" and back["volunteer_id"] is None
    assert (await w.act(oid, "accept", vol2))["volunteer_id"] == v2["id"]
    await w.act(oid, "start", vol2)
    await assert_problem(await w.act(oid, "cancel", resident, 409, reason="不需要了"), 409,
                         "illegal-transition")
    other = await w.order(resident, item["id"])
    cancelled = await w.act(other["id"], "cancel", resident, reason="电视自己好了")
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "电视自己好了"
    await assert_problem(await w.act(other["id"], "accept", vol1, 409), 409,
                         "illegal-transition")
    assert await w.outbox(oid) == [ORDER + "placed", ORDER + "assigned", ORDER + "declined",
                                   ORDER + "assigned", ORDER + "started"]
    assert await w.outbox(other["id"]) == [ORDER + "placed", ORDER + "cancelled"]
    assert v1["id"] != v2["id"]


async def test_two_volunteers_accepting_at_once_one_wins(world: World) -> None:
    w = world
    crew = [await w.volunteer(f"志愿者{i}", "appliance_repair") for i in range(4)]
    item = await w.item(w.staff())
    for _ in range(3):
        order = await w.order(w.who(), item["id"])
        answers = await asyncio.gather(*[
            w.app.post(f"{w.base}/volunteer-orders/{order['id']}/accept", headers=h)
            for _, h in crew])
        statuses = sorted(r.status for r in answers)
        assert statuses == [200, 409, 409, 409], statuses
        bodies = [await r.json() for r in answers]
        winners = [b["volunteer_id"] for r, b in zip(answers, bodies, strict=True)
                   if r.status == 200]
        assert winners[0] in {v["id"] for v, _ in crew}
        kinds = {b["type"].rsplit(":", 1)[-1] for b in bodies if b.get("status") == 409}
        assert kinds <= {"illegal-transition", "concurrent-change"}, kinds
        stored = await ok(await w.app.get(f"{w.base}/volunteer-orders/{order['id']}",
                                          headers=w.staff()))
        assert stored["volunteer_id"] == winners[0] and stored["status"] == "accepted"
        assert (await w.outbox(order["id"])).count(ORDER + "assigned") == 1


async def test_bad_input_is_problem_json_and_writes_nothing(world: World) -> None:
    w = world
    _, vol = await w.volunteer("赵师傅", "appliance_repair")
    item = await w.item(vol)
    before = (await w.compound_rows("orders"), await w.compound_events())
    resident = w.who()
    url = f"{w.base}/volunteer-orders"
    cases = [
        (w.order_body(item["id"], window_end=later(23)), 422, "validation-error"),
        (w.order_body(item["id"], window_start=later(-5), window_end=later(-4)), 422,
         "validation-error"),
        (w.order_body(str(uuid.uuid4())), 422, "validation-error"),
        (w.order_body(item["id"], unit_id=str(uuid.uuid4())), 422, "validation-error"),
        (w.order_body(item["id"], unexpected=1), 422, "validation-error"),
        (w.order_body(item["id"], note="长" * 1001), 422, "validation-error"),
        (w.order_body(item["id"], window_start="明天上午"), 422, "validation-error"),
        ({"item_id": item["id"]}, 422, "validation-error"),
    ]
    for body, status, kind in cases:
        await assert_problem(await w.app.post(url, json=body, headers=resident), status, kind)
    await assert_problem(await w.app.post(url, data=b"{not json", headers={
        **resident, "Content-Type": "application/json"}), 400, "malformed-json")
    await assert_problem(await w.app.post(f"{w.base}/volunteers", headers=w.who(), json={
        "skills": ["no_such_skill"]}), 422, "validation-error")
    await assert_problem(await w.app.post(f"{w.base}/volunteers", headers=w.who(), json={
        "skills": []}), 422, "validation-error")
    await assert_problem(await w.app.post(f"{w.base}/volunteers", headers=w.who(
        await w.person("钱阿姨")), json={"skills": ["errands"], "team_id": str(uuid.uuid4())}),
        422, "validation-error")
    await assert_problem(await w.app.get(f"{w.base}/volunteer-orders/not-a-uuid",
                                         headers=resident), 404, "not-found")
    order = await w.order(resident, item["id"])
    await w.act(order["id"], "accept", vol)
    await w.act(order["id"], "start", vol)
    for body in ({"minutes": 0}, {"minutes": 1441}, {"minutes": "一小时"}, {}):
        await assert_problem(await w.act(order["id"], "complete", vol, 422, **body) if body
                             else await w.app.post(
                                 f"{url}/{order['id']}/complete", headers=vol, json={}),
                             422, "validation-error")
    assert (await ok(await w.app.get(f"{url}/{order['id']}", headers=resident)))[
        "status"] == "in_service"
    after = (await w.compound_rows("orders"), await w.compound_events())
    assert after == (before[0] + 1, before[1] + 3)  # only the good order: placed, assigned, started


async def test_who_may_order_see_accept_and_rate(world: World) -> None:
    w = world
    v, vol = await w.volunteer("周医生", "medical_escort")
    _, repairer = await w.volunteer("吴师傅", "appliance_repair")
    item = await w.item(vol, skill="medical_escort", title="陪同去医院复诊")
    await assert_problem(await w.app.post(f"{w.base}/service-menu", headers=repairer, json={
        "title": "陪诊", "skill": "medical_escort", "duration_minutes": 120,
        "capacity_per_week": 2}), 403, "forbidden")
    rid = str(uuid.uuid4())
    resident = w.who(rid)
    foreign = bearer(w.token(roles=["resident"], compounds=[str(uuid.uuid4())]))
    await assert_problem(await w.app.post(f"{w.base}/volunteer-orders", headers=foreign,
                                          json=w.order_body(item["id"])), 403, "forbidden")
    behalf = {"person_id": str(uuid.uuid4()), "name": "孙奶奶"}
    await assert_problem(await w.app.post(f"{w.base}/volunteer-orders", headers=resident,
                                          json=w.order_body(item["id"], on_behalf_of=behalf)),
                         403, "forbidden")
    phoned = await w.order(w.staff(), item["id"], on_behalf_of=behalf)
    assert phoned["resident_id"] == behalf["person_id"] and phoned["on_behalf"] is True
    order = await w.order(resident, item["id"])
    oid = order["id"]
    # the repairer neither sees nor takes an escort order; the escort volunteer does
    seen = await ok(await w.app.get(f"{w.base}/volunteer-orders", headers=repairer))
    assert seen["items"] == []
    await assert_problem(await w.app.get(f"{w.base}/volunteer-orders/{oid}", headers=repairer),
                         403, "forbidden")
    await assert_problem(await w.act(oid, "accept", repairer, 403), 403, "forbidden")
    open_ = await ok(await w.app.get(f"{w.base}/volunteer-orders?status=ordered", headers=vol))
    assert {o["id"] for o in open_["items"]} == {oid, phoned["id"]}
    mine = await ok(await w.app.get(f"{w.base}/volunteer-orders", headers=resident))
    assert [o["id"] for o in mine["items"]] == [oid]
    await assert_problem(await w.app.get(f"{w.base}/volunteer-orders/{oid}",
                                         headers=w.who()), 403, "forbidden")
    await assert_problem(await w.act(oid, "assign", resident, 403, volunteer_id=v["id"]), 403,
                         "forbidden")
    assigned = await w.act(oid, "assign", w.staff(), volunteer_id=v["id"])
    assert assigned["volunteer_id"] == v["id"]
    await w.act(oid, "start", vol)
    await w.act(oid, "complete", w.staff(), minutes=150, notes="社区代老人记录")
    await assert_problem(await w.act(oid, "rate", w.staff(), 403, score=5), 403, "forbidden")
    await assert_problem(await w.act(oid, "rate", vol, 403, score=5), 403, "forbidden")
    await w.act(oid, "rate", resident, score=4)
    await assert_problem(await w.app.get(f"{w.base}/service-ledger", headers=resident), 403,
                         "forbidden")
    await assert_problem(await w.app.get(f"{w.base}/service-ledger.csv", headers=vol), 403,
                         "forbidden")
    await assert_problem(await w.app.post(f"{w.base}/volunteers", headers=resident, json={
        "skills": ["errands"], "person_id": str(uuid.uuid4())}), 403, "forbidden")


async def test_volunteers_update_themselves_and_staff_suspend(world: World) -> None:
    w = world
    v, vol = await w.volunteer("郑师傅", "appliance_repair")
    url = f"{w.base}/volunteers/{v['id']}"
    changed = await ok(await w.app.patch(url, headers=vol, json={
        "skills": ["errands", "appliance_repair"], "availability": "工作日晚上",
        "team_id": w.team}))
    assert changed["skills"] == ["appliance_repair", "errands"]
    assert changed["team_id"] == w.team and changed["status"] == "verified"
    await assert_problem(await w.app.patch(url, headers=w.who(), json={"party_member": True}),
                         403, "forbidden")
    await assert_problem(await w.app.patch(url, headers=vol, json={"skills": ["flying"]}), 422,
                         "validation-error")
    await assert_problem(await w.app.patch(url, headers=vol, json={}), 422, "validation-error")
    item = await w.item(w.staff(), skill="errands", title="代取快递")
    order = await w.order(w.who(), item["id"])
    await assert_problem(await w.app.post(f"{url}/suspend", headers=vol,
                                          json={"reason": "自己停"}), 403, "forbidden")
    stopped = await ok(await w.app.post(f"{url}/suspend", headers=w.staff(),
                                        json={"reason": "居民多次投诉未按时上门"}))
    assert stopped["status"] == "suspended"
    await assert_problem(await w.act(order["id"], "accept", vol, 403), 403, "forbidden")
    await ok(await w.app.post(f"{url}/verify", headers=w.staff()))
    assert (await w.act(order["id"], "accept", vol))["volunteer_id"] == v["id"]
    assert await w.outbox(v["id"]) == [
        "linli.volunteers.volunteer.registered", "linli.volunteers.volunteer.verified",
        "linli.volunteers.volunteer.updated", "linli.volunteers.volunteer.suspended",
        "linli.volunteers.volunteer.verified"]


async def test_orders_nobody_accepted_expire_after_their_window(world: World) -> None:
    w = world
    _, vol = await w.volunteer("冯师傅", "appliance_repair")
    item = await w.item(vol)
    stale = await w.order(w.who(), item["id"])
    taken = await w.order(w.who(), item["id"])
    await w.act(taken["id"], "accept", vol)
    assert w.app.app is not None
    pool, cid = w.app.app[POOL], uuid.UUID(w.cid)
    end = dt.datetime.fromisoformat(stale["window_end"])
    assert await orders.expire_stale(pool, now=end - dt.timedelta(minutes=1), compound_id=cid) == 0
    assert await orders.expire_stale(pool, now=end + dt.timedelta(minutes=1), compound_id=cid) == 1
    assert await orders.expire_stale(pool, now=end + dt.timedelta(minutes=1), compound_id=cid) == 0
    gone = await ok(await w.app.get(f"{w.base}/volunteer-orders/{stale['id']}",
                                    headers=w.staff()))
    assert gone["status"] == "cancelled" and "无人接单" in gone["cancel_reason"]
    assert await w.outbox(stale["id"]) == [ORDER + "placed", ORDER + "cancelled"]
    kept = await ok(await w.app.get(f"{w.base}/volunteer-orders/{taken['id']}",
                                    headers=w.staff()))
    assert kept["status"] == "accepted"


async def test_times_without_a_zone_are_a_422_not_a_500(world: World) -> None:
    w = world
    _, vol = await w.volunteer("王师傅", "appliance_repair")
    item = await w.item(vol)
    resident = w.who(await w.person("李奶奶"))
    naive = (dt.datetime.now() + dt.timedelta(days=1)).replace(tzinfo=None)
    body = w.order_body(item["id"], window_start=naive.isoformat(),
                        window_end=(naive + dt.timedelta(hours=2)).isoformat())
    await assert_problem(await w.app.post(f"{w.base}/volunteer-orders", headers=resident,
                                          json=body), 422, "validation-error")
    v, _ = await w.volunteer("张阿姨", "elder_visit")
    plan = {"person_id": str(uuid.uuid4()), "person_name": "林奶奶", "unit_id": w.unit,
            "volunteer_id": v["id"], "first_due_at": naive.isoformat()}
    await assert_problem(await w.app.post(f"{w.base}/care-plans", headers=w.staff(),
                                          json=plan), 422, "validation-error")
    assert await w.compound_rows("orders") == await w.compound_rows("care_plans") == 0


async def test_a_suspended_volunteer_no_longer_goes_to_homes(world: World) -> None:
    """Suspension stops service: an accepted order cannot be started (decline stays open)."""
    w = world
    v, vol = await w.volunteer("郑师傅", "appliance_repair")
    item = await w.item(w.staff())
    order = await w.order(w.who(await w.person("李奶奶")), item["id"])
    await w.act(order["id"], "accept", vol)
    await ok(await w.app.post(f"{w.base}/volunteers/{v['id']}/suspend", headers=w.staff(),
                              json={"reason": "居民多次投诉"}))
    await assert_problem(await w.act(order["id"], "start", vol, 403), 403, "forbidden")
    back = await w.act(order["id"], "decline", vol, reason="已暂停服务")
    assert back["status"] == "ordered" and back["volunteer_id"] is None
