"""Interest groups and the lending library over HTTP against the real PostgreSQL and NATS:
groups proposed, approved, joined and left; loans, renewals, returns to the holds queue, the
last copy lent once under a race, the overdue sweep reporting each loan once."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from linli.http import POOL
from services.centre import library
from tests.conftest import assert_problem
from tests.integration.test_centre_support import (  # noqa: F401
    World,
    ok,
    tomorrow_at,
    world_fixture,
)


async def test_a_group_is_proposed_approved_joined_and_books_its_practice(world: World) -> None:
    w = world
    leader = str(uuid.uuid4())
    g = await w.post("/interest-groups", w.who(leader), name="太极拳队", kind="tai_chi",
                     description="每周二、四清晨练习", requires_approval=True)
    assert g["status"] == "proposed" and g["members"] == 1
    await assert_problem(await w.app.post(f"{w.base}/interest-groups/{g['id']}/members",
                                          headers=w.who()), 409, "group-not-approved")
    await assert_problem(await w.app.post(f"{w.base}/interest-groups/{g['id']}/approve",
                                          headers=w.who(leader)), 403, "forbidden")
    g = await w.post(f"/interest-groups/{g['id']}/approve", w.staff("community"), status=200)
    assert g["status"] == "approved"
    fan = str(uuid.uuid4())
    m = await w.post(f"/interest-groups/{g['id']}/members", w.who(fan))
    assert m["status"] == "pending" and m["role"] == "member"
    await assert_problem(await w.app.post(
        f"{w.base}/interest-groups/{g['id']}/members/{fan}/accept", headers=w.who(fan)),
        403, "forbidden")
    m = await w.post(f"/interest-groups/{g['id']}/members/{fan}/accept", w.who(leader),
                     status=200)
    assert m["status"] == "active"
    # the group's weekly practice: a series booked by its leader
    plaza = await w.venue(name="中心广场", kind="outdoor", bookers=["group", "organisation"])
    await assert_problem(await w.app.post(f"{w.base}/bookings", headers=w.who(fan), json=w.booking(
        plaza["id"], tomorrow_at(7))), 403, "forbidden")
    await assert_problem(await w.app.post(f"{w.base}/bookings", headers=w.who(fan), json=w.booking(
        plaza["id"], tomorrow_at(7), group_id=g["id"])), 403, "forbidden")
    b = await w.post("/bookings", w.who(leader), **w.booking(plaza["id"], tomorrow_at(7),
                                                             group_id=g["id"]))
    assert b["group_id"] == g["id"]
    a = await w.activity(title="太极拳公开课", group_id=g["id"], audience="everyone")
    page = await ok(await w.app.get(f"{w.base}/interest-groups/{g['id']}", headers=w.who()))
    assert page["members"] == 2 and [x["id"] for x in page["next_activities"]] == [a["id"]]
    await ok(await w.app.post(f"{w.base}/interest-groups/{g['id']}/members/{fan}/leave",
                              headers=w.who(fan)))
    members = await ok(await w.app.get(f"{w.base}/interest-groups/{g['id']}/members",
                                       headers=w.who()))
    assert [(x["person_id"], x["role"]) for x in members["items"]] == [(leader, "leader")]
    assert await w.outbox(g["id"]) == [
        "linli.centre.group.proposed", "linli.centre.group.approved", "linli.centre.group.joined",
        "linli.centre.group.joined", "linli.centre.group.left"]


async def test_a_book_goes_from_loan_to_hold_to_the_next_reader(world: World) -> None:
    w = world
    book = await w.post("/books", w.staff(), title="平凡的世界", author="路遥",
                        isbn="9787530216781", donated_by="3号楼 陈阿姨")
    assert (book["copies"], book["available"]) == (1, 1)
    ann, bob, cai = (str(uuid.uuid4()) for _ in range(3))
    loan = await w.post("/loans", w.who(ann), book_id=book["id"])
    assert loan["status"] == "active"
    assert dt.date.fromisoformat(loan["due_on"]) >= dt.date.today() + dt.timedelta(days=20)
    await assert_problem(await w.app.post(f"{w.base}/loans", headers=w.who(bob),
                                          json={"book_id": book["id"]}), 409, "no-copy-available")
    hold = await w.post("/holds", w.who(bob), book_id=book["id"])
    assert hold["status"] == "waiting" and hold["position"] == 1
    second = await w.post("/holds", w.who(cai), book_id=book["id"])
    assert second["position"] == 2
    await assert_problem(await w.app.post(f"{w.base}/loans/{loan['id']}/renew",
                                          headers=w.who(ann)), 409, "held-by-others")
    await assert_problem(await w.app.post(f"{w.base}/loans/{loan['id']}/return",
                                          headers=w.who(bob)), 403, "forbidden")
    back = await w.post(f"/loans/{loan['id']}/return", w.staff(), status=200)
    assert back["status"] == "returned"
    assert await w.outbox(hold["id"]) == ["linli.centre.hold.placed", "linli.centre.hold.ready"]
    # the copy is kept for bob: cai cannot take it, bob can
    await assert_problem(await w.app.post(f"{w.base}/loans", headers=w.who(cai),
                                          json={"book_id": book["id"]}), 409, "no-copy-available")
    mine = await ok(await w.app.get(f"{w.base}/my-library", headers=w.who(bob)))
    assert [(h["status"], h["book_id"]) for h in mine["holds"]] == [("ready", book["id"])]
    bobs = await w.post("/loans", w.who(bob), book_id=book["id"])
    mine = await ok(await w.app.get(f"{w.base}/my-library", headers=w.who(bob)))
    assert mine["holds"] == [] and [x["id"] for x in mine["loans"]] == [bobs["id"]]
    cais = await ok(await w.app.get(f"{w.base}/my-library", headers=w.who(cai)))
    assert [h["position"] for h in cais["holds"]] == [1]
    assert await w.outbox(loan["id"]) == ["linli.centre.loan.created",
                                          "linli.centre.loan.returned"]


async def test_renewal_once_and_a_lost_copy(world: World) -> None:
    w = world
    book = await w.post("/books", w.staff(), title="红楼梦", author="曹雪芹", copies=2)
    ann = str(uuid.uuid4())
    loan = await w.post("/loans", w.who(ann), book_id=book["id"])
    await assert_problem(await w.app.post(f"{w.base}/loans", headers=w.who(ann),
                                          json={"book_id": book["id"]}), 409, "already-on-loan")
    renewed = await w.post(f"/loans/{loan['id']}/renew", w.who(ann), status=200)
    assert renewed["renewed"] and renewed["due_on"] > loan["due_on"]
    await assert_problem(await w.app.post(f"{w.base}/loans/{loan['id']}/renew",
                                          headers=w.who(ann)), 409, "already-renewed")
    await assert_problem(await w.app.post(f"{w.base}/loans/{loan['id']}/lost",
                                          headers=w.who(ann)), 403, "forbidden")
    await w.post(f"/loans/{loan['id']}/lost", w.staff(), status=200)
    got = await ok(await w.app.get(f"{w.base}/books/{book['id']}", headers=w.who()))
    assert (got["copies"], got["on_loan"], got["available"]) == (1, 0, 1)


async def test_the_last_copy_lent_to_many_at_once_is_one_loan(world: World) -> None:
    w = world
    book = await w.post("/books", w.staff(), title="三体", author="刘慈欣", copies=1)
    answers = await asyncio.gather(*[
        w.app.post(f"{w.base}/loans", headers=w.who(), json={"book_id": book["id"]})
        for _ in range(10)])
    assert sorted(r.status for r in answers) == [201] + [409] * 9
    assert await w.count("SELECT count(*) FROM loans WHERE book_id = $1 AND status = 'active'",
                         uuid.UUID(book["id"])) == 1


async def test_the_overdue_sweep_reports_each_loan_once(world: World) -> None:
    w = world
    book = await w.post("/books", w.staff(), title="活着", author="余华", copies=3)
    late = await w.post("/loans", w.who(), book_id=book["id"])
    fine = await w.post("/loans", w.who(), book_id=book["id"])
    assert w.app.app is not None
    pool = w.app.app[POOL]
    await pool.execute("UPDATE loans SET due_on = current_date - 2 WHERE id = $1",
                       uuid.UUID(late["id"]))
    # two replicas sweeping at once report the overdue loan exactly once
    await asyncio.gather(library.sweep_overdue(pool), library.sweep_overdue(pool))
    await library.sweep_overdue(pool)
    assert await w.outbox(late["id"]) == ["linli.centre.loan.created",
                                          "linli.centre.loan.overdue"]
    assert await w.outbox(fine["id"]) == ["linli.centre.loan.created"]


async def test_a_loan_falling_due_is_reminded_once_and_again_after_renewal(
        world: World) -> None:
    w = world
    book = await w.post("/books", w.staff(), title="骆驼祥子", author="老舍", copies=2)
    reader = str(uuid.uuid4())
    soon = await w.post("/loans", w.who(reader), book_id=book["id"])
    later = await w.post("/loans", w.who(), book_id=book["id"])
    assert w.app.app is not None
    pool = w.app.app[POOL]
    await pool.execute("UPDATE loans SET due_on = current_date + 1 WHERE id = $1",
                       uuid.UUID(soon["id"]))
    await asyncio.gather(library.remind_due(pool), library.remind_due(pool))
    await library.remind_due(pool)
    assert await w.outbox(soon["id"]) == ["linli.centre.loan.created", "linli.centre.loan.due"]
    assert await w.outbox(later["id"]) == ["linli.centre.loan.created"]
    renewed = await w.post(f"/loans/{soon['id']}/renew", w.who(reader), status=200)
    await pool.execute("UPDATE loans SET due_on = current_date + 2 WHERE id = $1",
                       uuid.UUID(renewed["id"]))
    await library.remind_due(pool)
    assert await w.outbox(soon["id"]) == [
        "linli.centre.loan.created", "linli.centre.loan.due", "linli.centre.loan.renewed",
        "linli.centre.loan.due"]


async def test_bad_library_requests_are_clear_problems(world: World) -> None:
    w = world
    for body in [{"title": ""}, {"title": "书", "copies": 0}, {"title": "书", "isbn": "123"}]:
        await assert_problem(await w.app.post(f"{w.base}/books", headers=w.staff(), json=body),
                             422, "validation-error")
    await assert_problem(await w.app.post(f"{w.base}/books", headers=w.who(),
                                          json={"title": "书"}), 403, "forbidden")
    await assert_problem(await w.app.post(f"{w.base}/loans", headers=w.who(),
                                          json={"book_id": str(uuid.uuid4())}),
                         422, "validation-error")
    book = await w.post("/books", w.staff(), title="围城", copies=1)
    await assert_problem(await w.app.post(f"{w.base}/loans", headers=w.who(), json={
        "book_id": book["id"], "person_id": str(uuid.uuid4())}), 403, "forbidden")
    await assert_problem(await w.app.post(f"{w.base}/holds", headers=w.who(),
                                          json={"book_id": book["id"]}), 409, "copy-available")
    assert await w.count("SELECT count(*) FROM loans WHERE compound_id = $1",
                         uuid.UUID(w.cid)) == 0
    spec = await ok(await w.app.get("/openapi.json"))
    assert "/v1/compounds/{compound_id}/activities/{activity_id}/signups" in spec["paths"]


async def test_statistics_of_venue_use_participation_and_loans(world: World) -> None:
    w = world
    court = await w.venue(name="篮球场", kind="court",
                          opening_hours=[{"weekday": d, "opens": "06:00", "closes": "22:00"}
                                         for d in range(1, 8)])
    await w.post("/bookings", w.who(), **w.booking(court["id"], tomorrow_at(19), 120))
    a = await w.activity(capacity=3, audience="young_workers")
    for _ in range(4):
        await w.post(f"/activities/{a['id']}/signups", w.who())
    book = await w.post("/books", w.staff(), title="人间烟火", copies=2)
    await w.post("/loans", w.who(), book_id=book["id"])
    await assert_problem(await w.app.get(f"{w.base}/centre-stats", headers=w.who()),
                         403, "forbidden")
    week = tomorrow_at(19).date().isoformat()
    got = await ok(await w.app.get(f"{w.base}/centre-stats?weeks=2&last_week={week}",
                                   headers=w.staff()))
    weeks = [u for u in got["venue_use"] if u["venue"] == "篮球场"]
    assert len(weeks) == 2 and all(u["hours_open"] == 112.0 for u in weeks)
    assert sum(u["hours_booked"] for u in weeks) == 2.0
    assert [(p["key"], p["label"], p["activities"], p["signed_up"]) for p in got["by_audience"]] \
        == [("young_workers", "青年上班族", 1, 3)]
    assert [m["loans"] for m in got["loans_by_month"]] == [1]
    await assert_problem(await w.app.get(f"{w.base}/centre-stats?weeks=0", headers=w.staff()),
                         422, "validation-error")


async def test_staff_list_the_books_out_with_the_overdue_first_and_readers_may_not(
        world: World) -> None:
    w = world
    book = await w.post("/books", w.staff(), title="围城", author="钱锺书", copies=4)
    reader = str(uuid.uuid4())
    fresh = await w.post("/loans", w.who(reader), book_id=book["id"])
    late = await w.post("/loans", w.who(), book_id=book["id"])
    back = await w.post("/loans", w.who(), book_id=book["id"])
    assert w.app.app is not None
    await w.app.app[POOL].execute("UPDATE loans SET due_on = current_date - 3 WHERE id = $1",
                                  uuid.UUID(late["id"]))
    await w.post(f"/loans/{back['id']}/return", w.staff(), status=200)
    out = await ok(await w.app.get(f"{w.base}/loans", headers=w.staff()))
    assert [x["id"] for x in out["items"]] == [late["id"], fresh["id"]]  # returned one gone
    await assert_problem(await w.app.get(f"{w.base}/loans", headers=w.who(reader)),
                         403, "forbidden")
