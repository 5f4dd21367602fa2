"""Recurring care (定期关爱): a weekly visit plan, visits recorded into the ledger, a missed
visit flagged for the community with its event, and who may see and record what."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from linli.http import POOL
from services.volunteers import care
from tests.conftest import all_pages, assert_bad_limit, assert_problem, wait_until_blocked
from tests.integration.test_volunteers_support import (  # noqa: F401
    World,
    later,
    ok,
    world_fixture,
)

CARE = "linli.volunteers.care_visit."


def plan_body(w: World, volunteer_id: str, **changes: object) -> dict[str, object]:
    return {"person_id": str(uuid.uuid4()), "person_name": "林奶奶", "unit_id": w.unit,
            "volunteer_id": volunteer_id, "first_due_at": later(48), "interval_days": 7,
            "note": "子女在外地工作，每周上门看望", **changes}


async def test_weekly_visits_recorded_and_a_missed_one_flagged(world: World) -> None:
    w = world
    v, vol = await w.volunteer("张阿姨", "elder_visit")
    _, other = await w.volunteer("刘叔叔", "elder_visit")
    await assert_problem(await w.app.post(f"{w.base}/care-plans", headers=vol,
                                          json=plan_body(w, v["id"])), 403, "forbidden")
    plan = await ok(await w.app.post(f"{w.base}/care-plans", headers=w.staff(),
                                     json=plan_body(w, v["id"])), 201)
    first = plan["next_visit"]
    assert plan["status"] == "active" and first["seq"] == 1 and first["status"] == "due"
    p = f"{w.base}/care-plans/{plan['id']}"
    await assert_problem(await w.app.post(f"{p}/visits/{first['id']}/record", headers=other,
                                          json={"minutes": 40}), 403, "forbidden")
    await assert_problem(await w.app.get(p, headers=other), 403, "forbidden")
    assert await ok(await w.app.get(f"{w.base}/care-plans", headers=other)) == {
        "items": [], "next_cursor": None}
    await assert_problem(await w.app.post(f"{p}/visits/{first['id']}/miss", headers=w.staff()),
                         409, "not-due")
    done = await ok(await w.app.post(f"{p}/visits/{first['id']}/record", headers=vol,
                                     json={"minutes": 40, "notes": "血压正常，帮忙换了灯泡"}))
    assert done["status"] == "recorded" and done["minutes"] == 40
    await assert_problem(await w.app.post(f"{p}/visits/{first['id']}/record", headers=vol,
                                          json={"minutes": 40}), 409, "illegal-transition")
    second = (await ok(await w.app.get(p, headers=vol)))["next_visit"]
    assert second["seq"] == 2
    await assert_problem(await w.app.post(f"{p}/visits/{second['id']}/record", headers=vol,
                                          json={"minutes": 30}), 409, "not-open-yet")
    assert (dt.datetime.fromisoformat(second["due_at"]) - dt.datetime.fromisoformat(
        first["due_at"])) == dt.timedelta(days=7)

    # nobody records visit 2: past its due time (and the grace) the sweep flags it
    assert w.app.app is not None
    pool = w.app.app[POOL]
    cid = uuid.UUID(w.cid)
    due2 = dt.datetime.fromisoformat(second["due_at"])
    assert await care.sweep_missed(pool, now=due2, compound_id=cid) == 0
    assert await care.sweep_missed(pool, now=due2 + care.SWEEP_GRACE * 2, compound_id=cid) == 1
    assert await care.sweep_missed(pool, now=due2 + care.SWEEP_GRACE * 2, compound_id=cid) == 0
    flags = await ok(await w.app.get(f"{w.base}/care-flags", headers=w.staff()))
    assert [(f["seq"], f["status"]) for f in flags["items"]] == [(2, "missed")]
    assert await w.outbox(first["id"]) == [CARE + "recorded"]
    assert await w.outbox(second["id"]) == [CARE + "missed"]
    await assert_problem(await w.app.post(f"{p}/visits/{second['id']}/record", headers=vol,
                                          json={"minutes": 30}), 409, "illegal-transition")
    visits = await ok(await w.app.get(f"{p}/visits", headers=vol))
    assert [(x["seq"], x["status"]) for x in visits["items"]] == [
        (1, "recorded"), (2, "missed"), (3, "due")]
    await ok(await w.app.post(f"{w.base}/care-visits/{second['id']}/acknowledge",
                              headers=w.staff()))
    assert (await ok(await w.app.get(f"{w.base}/care-flags", headers=w.staff())))["items"] == []

    stats = await ok(await w.app.get(f"{w.base}/service-ledger/stats", headers=w.staff()))
    assert (stats["services"], stats["minutes"], stats["missed_care_visits"]) == (1, 40, 1)
    assert stats["by_skill"][0]["skill"] == "elder_visit"

    ended = await ok(await w.app.post(f"{p}/end", headers=w.staff()))
    assert ended["status"] == "ended"
    visits = await ok(await w.app.get(f"{p}/visits", headers=w.staff()))
    assert visits["items"][-1]["status"] == "cancelled"
    await assert_problem(await w.app.post(f"{p}/end", headers=w.staff()), 409,
                         "illegal-transition")
    assert await w.outbox(plan["id"]) == ["linli.volunteers.care_plan.created",
                                          "linli.volunteers.care_plan.ended"]


async def test_a_plan_needs_a_verified_volunteer_with_the_skill(world: World) -> None:
    w = world
    pending, _ = await w.volunteer("黄师傅", "elder_visit", verify=False)
    repairer, _ = await w.volunteer("吴师傅", "appliance_repair")
    before = await w.compound_rows("care_plans")
    for body in (plan_body(w, pending["id"]), plan_body(w, repairer["id"]),
                 plan_body(w, str(uuid.uuid4())), plan_body(w, repairer["id"], skill="nope"),
                 plan_body(w, repairer["id"], first_due_at=later(-1)),
                 plan_body(w, repairer["id"], interval_days=0),
                 plan_body(w, repairer["id"], unit_id=str(uuid.uuid4()))):
        await assert_problem(await w.app.post(f"{w.base}/care-plans", headers=w.staff(),
                                              json=body), 422, "validation-error")
    assert await w.compound_rows("care_plans") == before == 0


async def test_a_plan_ended_while_its_visit_is_recorded_keeps_no_open_visit(world: World) -> None:
    """record and end at once: both succeed (no deadlock, no 500), and the next visit the
    recording scheduled is cancelled by the end (an ended plan never has a visit due)."""
    w = world
    v, vol = await w.volunteer("张阿姨", "elder_visit")
    plan = await ok(await w.app.post(f"{w.base}/care-plans", headers=w.staff(),
                                     json=plan_body(w, v["id"], first_due_at=later(1))), 201)
    p, first = f"{w.base}/care-plans/{plan['id']}", plan["next_visit"]
    assert w.app.app is not None
    pool = w.app.app[POOL]
    async with pool.acquire() as conn, conn.transaction():
        # hold the visit, so the recording waits first in line, then the end arrives
        await conn.execute("SELECT 1 FROM care_visits WHERE id = $1 FOR UPDATE",
                           uuid.UUID(first["id"]))
        recording = asyncio.create_task(w.app.post(f"{p}/visits/{first['id']}/record",
                                                   headers=vol, json={"minutes": 40}))
        await wait_until_blocked(conn)
        ending = asyncio.create_task(w.app.post(f"{p}/end", headers=w.staff()))
        await wait_until_blocked(conn, waiting=2)  # the end waits too, behind us or the record
    assert (await recording).status == 200 and (await ending).status == 200
    visits = await ok(await w.app.get(f"{p}/visits", headers=w.staff()))
    assert [x["status"] for x in visits["items"]] == ["recorded", "cancelled"]


async def test_a_suspended_volunteer_cannot_record_a_care_visit(world: World) -> None:
    w = world
    v, vol = await w.volunteer("张阿姨", "elder_visit")
    plan = await ok(await w.app.post(f"{w.base}/care-plans", headers=w.staff(),
                                     json=plan_body(w, v["id"], first_due_at=later(1))), 201)
    url = f"{w.base}/care-plans/{plan['id']}/visits/{plan['next_visit']['id']}/record"
    await ok(await w.app.post(f"{w.base}/volunteers/{v['id']}/suspend", headers=w.staff(),
                              json={"reason": "长期未上门"}))
    await assert_problem(await w.app.post(url, headers=vol, json={"minutes": 30}), 403,
                         "forbidden")
    assert (await ok(await w.app.post(url, headers=w.staff(), json={"minutes": 30})))[
        "status"] == "recorded"


async def test_care_plans_page_active_first_newest_first_each_with_its_next_visit(
        world: World) -> None:
    w = world
    v, _ = await w.volunteer("周阿姨", "elder_visit")
    made = [(await ok(await w.app.post(f"{w.base}/care-plans", headers=w.staff(),
                                       json=plan_body(w, v["id"])), 201))["id"] for _ in range(5)]
    await ok(await w.app.post(f"{w.base}/care-plans/{made[1]}/end", headers=w.staff()))
    pages = await all_pages(w.app, f"{w.base}/care-plans", w.staff(), limit=2)
    assert [len(p) for p in pages] == [2, 2, 1]
    seen = [p for page in pages for p in page]
    active = [m for m in reversed(made) if m != made[1]]
    assert [p["id"] for p in seen] == [*active, made[1]]  # each once, ended last
    assert all(p["next_visit"]["seq"] == 1 for p in seen[:4]) and seen[4]["next_visit"] is None
    for path in ("care-plans", "care-flags", f"care-plans/{made[0]}/visits"):
        await assert_bad_limit(w.app, f"{w.base}/{path}", w.staff())
