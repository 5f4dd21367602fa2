"""Activity plans and activities with sign-ups over HTTP against the real PostgreSQL and NATS:
plans per resident group, places and the waiting list in arrival order, promotion on
cancellation (exactly once under a race), check-in with a code, cancelling an activity."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from linli.http import POOL
from services.centre import signups
from tests.conftest import all_pages, assert_bad_limit, assert_problem
from tests.integration.test_centre_support import (  # noqa: F401
    World,
    iso,
    ok,
    tomorrow_at,
    world_fixture,
)


async def test_a_plan_for_the_elderly_is_published_with_its_activities(world: World) -> None:
    w = world
    plan = await w.post("/activity-plans", w.staff("community"), audience="elderly",
                        period="2026-06", title="六月老年人活动计划", summary="健康讲座、太极、手工")
    assert plan["audience_label"] == "老年人" and plan["status"] == "draft"
    room = await w.venue(name="活动室", capacity=30)
    a = await w.activity(capacity=25, plan_id=plan["id"], venue_id=room["id"],
                         title="健康讲座：高血压的饮食")
    assert a["booking_id"] and a["venue_id"] == room["id"]
    booking = await ok(await w.app.get(f"{w.base}/bookings/{a['booking_id']}",
                                       headers=w.staff()))
    assert booking["status"] == "confirmed" and booking["purpose"] == "健康讲座：高血压的饮食"
    # the venue is taken by the activity: another activity at the same time is a named clash
    r = await w.app.post(f"{w.base}/activities", headers=w.staff(), json={
        "title": "亲子手工", "organiser": "业委会", "audience": "families",
        "starts_at": iso(tomorrow_at(9, 30)), "ends_at": iso(tomorrow_at(10, 30)),
        "capacity": 10, "venue_id": room["id"]})
    body = await assert_problem(r, 409, "booking-clash")
    assert a["booking_id"] in body["detail"]
    await assert_problem(await w.app.post(f"{w.base}/activities", headers=w.staff(), json={
        "title": "太多人", "organiser": "业委会", "audience": "families",
        "starts_at": iso(tomorrow_at(15)), "ends_at": iso(tomorrow_at(16)),
        "capacity": 31, "venue_id": room["id"]}), 422, "validation-error")
    published = await w.post(f"/activity-plans/{plan['id']}/publish", w.staff("community"),
                             status=200)
    assert published["status"] == "published"
    assert [x["id"] for x in published["activities"]] == [a["id"]]
    assert await w.outbox(plan["id"]) == ["linli.centre.plan.published"]
    await assert_problem(await w.app.post(f"{w.base}/activity-plans", headers=w.staff(), json={
        "audience": "elderly", "period": "2026-06", "title": "重复"}), 409, "duplicate-plan")
    await assert_problem(await w.app.post(f"{w.base}/activity-plans", headers=w.who(), json={
        "audience": "elderly", "period": "2026-07", "title": "居民不能建"}), 403, "forbidden")


async def test_places_then_a_waiting_list_that_promotes_itself(world: World) -> None:
    w = world
    a = await w.activity(capacity=2, title="亲子烘焙", audience="families")
    people = [str(uuid.uuid4()) for _ in range(4)]
    ups = [await w.post(f"/activities/{a['id']}/signups", w.who(p)) for p in people]
    assert [u["status"] for u in ups] == ["confirmed", "confirmed", "waiting", "waiting"]
    assert [u["position"] for u in ups] == [None, None, 1, 2]
    await assert_problem(await w.app.post(f"{w.base}/activities/{a['id']}/signups",
                                          headers=w.who(people[0])), 409, "already-signed-up")
    await assert_problem(await w.app.post(
        f"{w.base}/activities/{a['id']}/signups/{ups[1]['id']}/cancel", headers=w.who()),
        403, "forbidden")
    await ok(await w.app.post(f"{w.base}/activities/{a['id']}/signups/{ups[1]['id']}/cancel",
                              headers=w.who(people[1])))
    listing = await ok(await w.app.get(f"{w.base}/activities/{a['id']}/signups",
                                       headers=w.staff()))
    assert [(s["person_id"], s["status"]) for s in listing["items"]] == [
        (people[0], "confirmed"), (people[2], "confirmed"), (people[3], "waiting")]
    assert await w.outbox(ups[2]["id"]) == ["linli.centre.activity.signed_up",
                                            "linli.centre.waitlist.promoted"]
    # a waiting person cancelling frees no place: nobody is promoted
    await ok(await w.app.post(f"{w.base}/activities/{a['id']}/signups/{ups[3]['id']}/cancel",
                              headers=w.who(people[3])))
    got = await ok(await w.app.get(f"{w.base}/activities/{a['id']}", headers=w.who()))
    assert (got["confirmed"], got["waiting"]) == (2, 0)
    mine = await ok(await w.app.get(f"{w.base}/activities/{a['id']}/signups",
                                    headers=w.who(people[2])))
    assert [s["person_id"] for s in mine["items"]] == [people[2]]


async def test_200_people_for_30_places_at_once(world: World) -> None:
    w = world
    a = await w.activity(capacity=30, title="社区电影夜")
    people = [str(uuid.uuid4()) for _ in range(200)]
    answers = await asyncio.gather(*[
        w.app.post(f"{w.base}/activities/{a['id']}/signups", headers=w.who(p)) for p in people])
    assert all(r.status == 201 for r in answers)
    ups = [await r.json() for r in answers]
    confirmed = [u for u in ups if u["status"] == "confirmed"]
    waiting = sorted((u for u in ups if u["status"] == "waiting"), key=lambda u: u["position"])
    assert len(confirmed) == 30 and len(waiting) == 170
    assert [u["position"] for u in waiting] == list(range(1, 171))
    assert len({u["person_id"] for u in ups}) == 200
    # arrival order: everyone confirmed arrived before everyone waiting; read in pages, the
    # queue comes whole, each once, with its places counted over the whole queue
    pages = await all_pages(w.app, f"{w.base}/activities/{a['id']}/signups", w.staff(),
                            limit=64)
    assert [len(p) for p in pages] == [64, 64, 64, 8]
    listing = [s for p in pages for s in p]
    assert [s["status"] for s in listing] == ["confirmed"] * 30 + ["waiting"] * 170
    assert [s["person_id"] for s in listing if s["status"] == "waiting"] == [
        u["person_id"] for u in waiting]
    assert [s["position"] for s in listing[30:]] == list(range(1, 171))
    await assert_bad_limit(w.app, f"{w.base}/activities/{a['id']}/signups", w.staff())


async def test_cancellations_racing_promote_each_waiting_person_once(world: World) -> None:
    w = world
    a = await w.activity(capacity=5, title="瑜伽体验课")
    people = [str(uuid.uuid4()) for _ in range(12)]
    ups = [await w.post(f"/activities/{a['id']}/signups", w.who(p)) for p in people]
    # all five confirmed cancel at once: exactly the first five waiting are promoted, once each
    answers = await asyncio.gather(*[
        w.app.post(f"{w.base}/activities/{a['id']}/signups/{u['id']}/cancel",
                   headers=w.who(u["person_id"])) for u in ups[:5]])
    assert [r.status for r in answers] == [200] * 5
    listing = await ok(await w.app.get(f"{w.base}/activities/{a['id']}/signups",
                                       headers=w.staff()))
    assert [s["person_id"] for s in listing["items"] if s["status"] == "confirmed"] == people[5:10]
    assert [s["person_id"] for s in listing["items"] if s["status"] == "waiting"] == people[10:]
    for u in ups[5:10]:
        assert await w.outbox(u["id"]) == ["linli.centre.activity.signed_up",
                                           "linli.centre.waitlist.promoted"]
    # the same cancellation sent twice at once promotes one person, not two
    twice = await asyncio.gather(*[
        w.app.post(f"{w.base}/activities/{a['id']}/signups/{ups[5]['id']}/cancel",
                   headers=w.who(people[5])) for _ in range(2)])
    assert sorted(r.status for r in twice) == [200, 409]
    assert await w.count("SELECT count(*) FROM signups WHERE activity_id = $1 AND status ="
                         " 'confirmed'", uuid.UUID(a["id"])) == 5
    assert await w.outbox(ups[11]["id"]) == ["linli.centre.activity.signed_up"]
    assert await w.outbox(ups[10]["id"]) == ["linli.centre.activity.signed_up",
                                             "linli.centre.waitlist.promoted"]


async def test_check_in_at_the_door_and_feedback(world: World) -> None:
    w = world
    start = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)
    a = await w.activity(capacity=1, start=start, title="太极入门",
                         signup_closes_at=iso(start - dt.timedelta(minutes=1)))
    p, q = str(uuid.uuid4()), str(uuid.uuid4())
    mine = await w.post(f"/activities/{a['id']}/signups", w.who(p))
    queued = await w.post(f"/activities/{a['id']}/signups", w.who(q))
    await assert_problem(await w.app.post(f"{w.base}/activities/{a['id']}/check-in",
                                          headers=w.who(p), json={"code": "nope"}),
                         422, "validation-error")
    await assert_problem(await w.app.post(f"{w.base}/activities/{a['id']}/check-in",
                                          headers=w.who(q), json={"code": queued["code"]}),
                         409, "not-confirmed")
    await assert_problem(await w.app.post(f"{w.base}/activities/{a['id']}/check-in",
                                          headers=w.who(p), json={"signup_id": mine["id"]}),
                         403, "forbidden")
    done = await w.post(f"/activities/{a['id']}/check-in", w.who(p), status=200,
                        code=mine["code"])
    assert done["checked_in_at"]
    again = await w.post(f"/activities/{a['id']}/check-in", w.staff(), status=200,
                         signup_id=mine["id"])
    assert again["checked_in_at"] == done["checked_in_at"]
    scored = await w.post(f"/activities/{a['id']}/signups/{mine['id']}/feedback", w.who(p),
                          status=200, score=5)
    assert scored["feedback"] == 5
    assert await w.outbox(mine["id"]) == ["linli.centre.activity.signed_up",
                                          "linli.centre.signup.checked_in"]


async def test_cancelling_an_activity_releases_the_room_and_names_everyone(world: World) -> None:
    w = world
    room = await w.venue(capacity=10)
    a = await w.activity(capacity=1, venue_id=room["id"])
    p, q = str(uuid.uuid4()), str(uuid.uuid4())
    await w.post(f"/activities/{a['id']}/signups", w.who(p))
    await w.post(f"/activities/{a['id']}/signups", w.who(q))
    await assert_problem(await w.app.post(f"{w.base}/activities/{a['id']}/cancel",
                                          headers=w.who(p), json={"reason": "不想办了"}),
                         403, "forbidden")
    done = await w.post(f"/activities/{a['id']}/cancel", w.staff(), status=200, reason="台风预警")
    assert done["status"] == "cancelled"
    [event] = await w.event_data(a["id"], "linli.centre.activity.cancelled")
    assert event["people"] == [p, q] and event["reason"] == "台风预警"
    booking = await ok(await w.app.get(f"{w.base}/bookings/{a['booking_id']}", headers=w.who()))
    assert booking["status"] == "cancelled"
    await assert_problem(await w.app.post(f"{w.base}/activities/{a['id']}/signups",
                                          headers=w.who()), 409, "activity-closed")
    # the room is free again at that time
    assert (await w.post("/bookings", w.who(), **w.booking(room["id"], tomorrow_at(9))))[
        "status"] == "confirmed"


async def test_bad_activities_are_clear_problems_and_write_nothing(world: World) -> None:
    w = world
    base = {"title": "活动", "organiser": "社区", "audience": "elderly",
            "starts_at": iso(tomorrow_at(9)), "ends_at": iso(tomorrow_at(10)), "capacity": 5}
    for changes in [{"capacity": 0}, {"ends_at": iso(tomorrow_at(8))},
                    {"starts_at": tomorrow_at(9).replace(tzinfo=None).isoformat()},
                    {"signup_closes_at": iso(tomorrow_at(9, 30))},
                    {"venue_id": str(uuid.uuid4())}, {"plan_id": str(uuid.uuid4())},
                    {"group_id": str(uuid.uuid4())}]:
        r = await w.app.post(f"{w.base}/activities", headers=w.staff(), json={**base, **changes})
        await assert_problem(r, 422, "validation-error")
    await assert_problem(await w.app.post(f"{w.base}/activities", headers=w.who(), json=base),
                         403, "forbidden")
    a = await w.activity()
    await assert_problem(await w.app.post(f"{w.base}/activities/{a['id']}/signups",
                                          headers=w.who(), json={"person_id": str(uuid.uuid4())}),
                         403, "forbidden")
    assert await w.count("SELECT count(*) FROM activities WHERE compound_id = $1",
                         uuid.UUID(w.cid)) == 1
    assert await w.count("SELECT count(*) FROM signups WHERE activity_id = $1",
                         uuid.UUID(a["id"])) == 0


async def test_the_timeline_steps_happen_once(world: World) -> None:
    w = world
    start = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)
    a = await w.activity(capacity=2, start=start, title="读报会",
                         signup_closes_at=iso(start - dt.timedelta(minutes=1)))
    p, q, r = (str(uuid.uuid4()) for _ in range(3))
    ups = [await w.post(f"/activities/{a['id']}/signups", w.who(x)) for x in (p, q, r)]
    await assert_problem(await w.app.post(f"{w.base}/activities/{a['id']}/remind",
                                          headers=w.who()), 403, "forbidden")
    app = {"Authorization": "Bearer " + w.token(app="workflows", scopes=["centre:manage"],
                                          compounds=["*"])}
    for _ in range(2):
        reminded = await w.post(f"/activities/{a['id']}/remind", app, status=200)
    assert reminded["reminded_at"]
    [told] = await w.event_data(a["id"], "linli.centre.activity.reminder")
    assert told["people"] == [p, q]
    await w.post(f"/activities/{a['id']}/check-in", w.who(p), status=200, code=ups[0]["code"])
    await w.post(f"/activities/{a['id']}/request-feedback", app, status=200)
    await w.post(f"/activities/{a['id']}/signups/{ups[0]['id']}/feedback", w.who(p), status=200,
                 score=4)
    for _ in range(2):
        closed = await w.post(f"/activities/{a['id']}/close", app, status=200)
    assert closed["status"] == "closed" and closed["closed_at"]
    assert await w.outbox(a["id"]) == [
        "linli.centre.activity.created", "linli.centre.activity.reminder",
        "linli.centre.activity.feedback_requested", "linli.centre.activity.closed"]
    [asked] = await w.event_data(a["id"], "linli.centre.activity.feedback_requested")
    assert asked["people"] == [p]
    [done] = await w.event_data(a["id"], "linli.centre.activity.closed")
    assert (done["confirmed"], done["attended"], done["feedback_average"]) == (2, 1, 4.0)
    await assert_problem(await w.app.post(f"{w.base}/activities/{a['id']}/check-in",
                                          headers=w.who(q), json={"code": ups[1]["code"]}),
                         409, "activity-closed")


async def test_late_promotions_are_confirmed_or_pass_on(world: World) -> None:
    w = world
    start = dt.datetime.now(dt.UTC) + dt.timedelta(hours=5)  # within the 24 h cut-off
    a = await w.activity(capacity=1, start=start, title="周末观影")
    people = [str(uuid.uuid4()) for _ in range(4)]
    ups = [await w.post(f"/activities/{a['id']}/signups", w.who(p)) for p in people]
    await ok(await w.app.post(f"{w.base}/activities/{a['id']}/signups/{ups[0]['id']}/cancel",
                              headers=w.who(people[0])))
    [promoted] = await w.event_data(ups[1]["id"], "linli.centre.waitlist.promoted")
    assert promoted["confirm_by"] is not None
    assert dt.datetime.fromisoformat(promoted["confirm_by"]) <= start
    # the second person lets the deadline pass: the sweep passes the place on to the third
    assert w.app.app is not None
    pool = w.app.app[POOL]
    await pool.execute("UPDATE signups SET confirm_by = now() - interval '1 minute'"
                       " WHERE id = $1", uuid.UUID(ups[1]["id"]))
    released = await asyncio.gather(signups.release_unconfirmed(pool),
                                     signups.release_unconfirmed(pool))
    assert sum(released) == 1  # two replicas sweeping at once release the place once
    assert await w.outbox(ups[1]["id"]) == ["linli.centre.activity.signed_up",
                                            "linli.centre.waitlist.promoted",
                                            "linli.centre.signup.cancelled"]
    [why] = await w.event_data(ups[1]["id"], "linli.centre.signup.cancelled")
    assert why["reason"] == "递补后未在期限内确认"
    await assert_problem(await w.app.post(
        f"{w.base}/activities/{a['id']}/signups/{ups[1]['id']}/confirm",
        headers=w.who(people[1])), 409, "illegal-transition")
    # the third confirms in time and keeps the place
    mine = await w.post(f"/activities/{a['id']}/signups/{ups[2]['id']}/confirm",
                        w.who(people[2]), status=200)
    assert mine["status"] == "confirmed" and mine["confirm_by"] is None
    assert await signups.release_unconfirmed(pool) == 0
    listing = await ok(await w.app.get(f"{w.base}/activities/{a['id']}/signups",
                                       headers=w.staff()))
    assert [(s["person_id"], s["status"]) for s in listing["items"]] == [
        (people[2], "confirmed"), (people[3], "waiting")]
