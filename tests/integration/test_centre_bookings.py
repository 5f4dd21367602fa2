"""Venues and bookings over HTTP against the real PostgreSQL and NATS: rules and opening hours,
the database refusing overlaps (also under a race), approval, cancellation, series with clashes
named, bad input answered with problem+json and nothing written."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from linli.http import POOL
from tests.conftest import assert_problem
from tests.integration.test_centre_support import (  # noqa: F401
    World,
    iso,
    ok,
    tomorrow_at,
    world_fixture,
)

BOOKING = "linli.centre.booking."
UTC8 = dt.timezone(dt.timedelta(hours=8))


def local_day(moment: str) -> str:
    return dt.datetime.fromisoformat(moment).astimezone(UTC8).date().isoformat()


async def test_a_lit_court_is_booked_within_its_hours_and_never_twice(world: World) -> None:
    w = world
    court = await w.venue(name="篮球场", kind="court", capacity=20, max_minutes=120,
                          opening_hours=[{"weekday": d, "opens": "06:00", "closes": "22:00"}
                                         for d in range(1, 8)],
                          rules="灯光开放至 22:00", facilities=["灯光", "篮球架"])
    assert court["hours_text"].startswith("周一 06:00–22:00")
    me = w.who()
    b = await w.post("/bookings", me, **w.booking(court["id"], tomorrow_at(20), 90))
    assert b["status"] == "confirmed"
    assert await w.outbox(b["id"]) == [BOOKING + "confirmed"]
    late = await w.app.post(f"{w.base}/bookings", headers=me,
                            json=w.booking(court["id"], tomorrow_at(21, 30), 60))
    body = await assert_problem(late, 422, "validation-error")
    assert "开放时间" in body["detail"] and "22:00" in body["detail"]
    clash = await w.app.post(f"{w.base}/bookings", headers=w.who(),
                             json=w.booking(court["id"], tomorrow_at(21), 60))
    body = await assert_problem(clash, 409, "booking-clash")
    # another resident reads only that the court is taken then; staff read which booking
    assert "篮球场" in body["detail"] and "已有预约" in body["detail"]
    assert b["id"] not in body["detail"] and "羽毛球" not in body["detail"]
    clash = await w.app.post(f"{w.base}/bookings", headers=w.staff(),
                             json=w.booking(court["id"], tomorrow_at(21), 60))
    assert b["id"] in (await assert_problem(clash, 409, "booking-clash"))["detail"]
    # the one who booked it reads that it is theirs, in words (no booking number to decode)
    clash = await w.app.post(f"{w.base}/bookings", headers=me,
                             json=w.booking(court["id"], tomorrow_at(21), 60))
    detail = (await assert_problem(clash, 409, "booking-clash"))["detail"]
    assert detail.startswith("你已预约篮球场的这个时段") and b["id"] not in detail, detail
    # right after the first one ends is free (no buffer on this court)
    after = await w.post("/bookings", w.who(), **w.booking(court["id"], tomorrow_at(21, 30), 30))
    assert after["status"] == "confirmed"
    await ok(await w.app.post(f"{w.base}/bookings/{b['id']}/cancel", headers=me))
    again = await w.post("/bookings", w.who(), **w.booking(court["id"], tomorrow_at(20), 60))
    assert again["status"] == "confirmed"
    assert await w.outbox(b["id"]) == [BOOKING + "confirmed", BOOKING + "cancelled"]


async def test_of_many_booking_one_slot_at_once_exactly_one_wins(world: World) -> None:
    w = world
    room = await w.venue()
    start = tomorrow_at(10)
    people = [w.who() for _ in range(12)]
    answers = await asyncio.gather(*[
        w.app.post(f"{w.base}/bookings", headers=h,
                   json=w.booking(room["id"], start + dt.timedelta(minutes=5 * i), 60))
        for i, h in enumerate(people)])
    statuses = sorted(r.status for r in answers)
    assert statuses.count(201) == 1 and statuses.count(409) == 11, statuses
    for r in answers:
        if r.status == 409:
            body = await assert_problem(r, 409, "booking-clash")
            assert "已有预约" in body["detail"]
    assert await w.count("SELECT count(*) FROM bookings WHERE venue_id = $1 AND status IN"
                         " ('pending', 'confirmed')", uuid.UUID(room["id"])) == 1


async def test_the_buffer_between_bookings_is_kept(world: World) -> None:
    w = world
    room = await w.venue(buffer_minutes=15)
    await w.post("/bookings", w.who(), **w.booking(room["id"], tomorrow_at(9), 60))
    await assert_problem(await w.app.post(f"{w.base}/bookings", headers=w.who(), json=w.booking(
        room["id"], tomorrow_at(10, 10), 30)), 409, "booking-clash")
    assert (await w.post("/bookings", w.who(), **w.booking(room["id"], tomorrow_at(10, 15),
                                                           30)))["status"] == "confirmed"


async def test_approval_holds_the_slot_until_staff_decide(world: World) -> None:
    w = world
    room = await w.venue(name="活动室", requires_approval=True)
    me = w.who()
    b = await w.post("/bookings", me, **w.booking(room["id"], tomorrow_at(14)))
    assert b["status"] == "pending"
    await assert_problem(await w.app.post(f"{w.base}/bookings", headers=w.who(), json=w.booking(
        room["id"], tomorrow_at(14, 30))), 409, "booking-clash")
    await assert_problem(await w.app.post(f"{w.base}/bookings/{b['id']}/approve", headers=me),
                         403, "forbidden")
    done = await w.post(f"/bookings/{b['id']}/approve", w.staff(), status=200)
    assert done["status"] == "confirmed" and done["decided_by"]
    await assert_problem(await w.app.post(f"{w.base}/bookings/{b['id']}/approve",
                                          headers=w.staff()), 409, "illegal-transition")
    other = await w.post("/bookings", w.who(), **w.booking(room["id"], tomorrow_at(16)))
    declined = await w.post(f"/bookings/{other['id']}/decline", w.staff(), status=200,
                            reason="当天有社区党课")
    assert declined["status"] == "declined" and declined["reason"] == "当天有社区党课"
    assert await w.outbox(b["id"]) == [BOOKING + "requested", BOOKING + "confirmed"]
    assert await w.outbox(other["id"]) == [BOOKING + "requested", BOOKING + "declined"]
    # the declined slot is free again
    assert (await w.post("/bookings", w.who(), **w.booking(room["id"], tomorrow_at(16))))[
        "status"] == "pending"


async def test_a_series_books_what_fits_and_names_each_clash(world: World) -> None:
    w = world
    plaza = await w.venue(name="中心广场", kind="outdoor", capacity=60,
                          opening_hours=[{"weekday": d, "opens": "06:00", "closes": "21:00"}
                                         for d in range(1, 8)])
    first = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date() + dt.timedelta(days=1)
    last = first + dt.timedelta(days=27)
    days = [first + dt.timedelta(days=i) for i in range(28)]
    tuesdays = [d for d in days if d.isoweekday() == 2]
    thursdays = [d for d in days if d.isoweekday() == 4]
    blocker = await w.post("/bookings", w.who(), **w.booking(
        plaza["id"], dt.datetime.combine(thursdays[0], dt.time(7, 30),
                                         dt.timezone(dt.timedelta(hours=8))), 60))
    await w.post(f"/venues/{plaza['id']}/closures", w.staff(), **{
        "starts_at": iso(dt.datetime.combine(thursdays[1], dt.time(0),
                                             dt.timezone(dt.timedelta(hours=8)))),
        "ends_at": iso(dt.datetime.combine(thursdays[1], dt.time(23),
                                           dt.timezone(dt.timedelta(hours=8)))),
        "reason": "广场地面维修"})
    series = await w.post("/booking-series", w.staff(), venue_id=plaza["id"], purpose="太极晨练",
                          weekdays=[2, 4], start_time="07:00", end_time="08:00",
                          first_day=first.isoformat(), last_day=last.isoformat(),
                          exceptions=[tuesdays[0].isoformat()])
    assert len(series["booked"]) == len(tuesdays) + len(thursdays) - 3
    assert len(series["clashes"]) == 2
    by_day = {local_day(c["starts_at"]): c for c in series["clashes"]}
    assert blocker["id"] in by_day[thursdays[0].isoformat()]["detail"]
    assert by_day[thursdays[0].isoformat()]["booking_id"] == blocker["id"]
    assert "维修" in by_day[thursdays[1].isoformat()]["detail"]
    assert tuesdays[0].isoformat() not in {local_day(b["starts_at"]) for b in series["booked"]}
    # one occurrence moves, another is cancelled; the series still lists them
    one, two = series["booked"][0], series["booked"][1]
    hour = dt.timedelta(hours=1)
    moved = await w.post(f"/bookings/{one['id']}/move", w.staff(), status=200, **{
        "starts_at": iso(dt.datetime.fromisoformat(one["starts_at"]) + hour),
        "ends_at": iso(dt.datetime.fromisoformat(one["ends_at"]) + hour)})
    assert moved["starts_at"] != one["starts_at"] and moved["series_id"] == series["id"]
    await ok(await w.app.post(f"{w.base}/bookings/{two['id']}/cancel", headers=w.staff()))
    again = await ok(await w.app.get(f"{w.base}/booking-series/{series['id']}",
                                     headers=w.who()))
    assert {b["id"]: b["status"] for b in again["booked"]}[two["id"]] == "cancelled"
    assert await w.outbox(series["id"]) == ["linli.centre.series.created"]


async def test_bad_bookings_are_clear_problems_and_write_nothing(world: World) -> None:
    w = world
    room = await w.venue()
    me = w.who()
    bad = [
        ({**w.booking(room["id"], tomorrow_at(9)),
          "starts_at": tomorrow_at(9).replace(tzinfo=None).isoformat()}, 422),
        ({**w.booking(room["id"], tomorrow_at(9)), "ends_at": iso(tomorrow_at(8))}, 422),
        (w.booking(room["id"], tomorrow_at(9), 300), 422),  # longer than max_minutes
        (w.booking(room["id"], tomorrow_at(9, days=60)), 422),  # too far ahead
        (w.booking(str(uuid.uuid4()), tomorrow_at(9)), 422),
        (w.booking(room["id"], tomorrow_at(9), person_id=str(uuid.uuid4())), 403),
        ({**w.booking(room["id"], tomorrow_at(9)), "purpose": ""}, 422),
    ]
    for body, status in bad:
        r = await w.app.post(f"{w.base}/bookings", headers=me, json=body)
        await assert_problem(r, status, "forbidden" if status == 403 else "validation-error")
    # a venue of another compound is not this compound's venue
    other = str(uuid.uuid4())
    r = await w.app.post(f"/v1/compounds/{other}/bookings", json=w.booking(room["id"],
                         tomorrow_at(9)), headers=w.app and {"Authorization": me[
                             "Authorization"]})
    await assert_problem(r, 403, "forbidden")
    admin = {"Authorization": "Bearer " + w.token(roles=["admin"], compounds=["*"])}
    r = await w.app.post(f"/v1/compounds/{other}/bookings", headers=admin,
                         json=w.booking(room["id"], tomorrow_at(9)))
    body = await assert_problem(r, 422, "validation-error")
    assert body["errors"][0]["field"] == "venue_id"
    await assert_problem(await w.app.post(f"{w.base}/venues", headers=w.staff(), json={
        "name": "空场地", "kind": "room", "capacity": 0, "opening_hours": []}),
        422, "validation-error")
    await assert_problem(await w.app.post(f"{w.base}/venues", headers=w.staff(), json={
        "name": "倒挂", "kind": "room", "capacity": 5,
        "opening_hours": [{"weekday": 1, "opens": "22:00", "closes": "06:00"}]}),
        422, "validation-error")
    await assert_problem(await w.app.post(f"{w.base}/venues", headers=w.who(), json={
        "name": "居民建的", "kind": "room", "capacity": 5, "opening_hours": [
            {"weekday": 1, "opens": "08:00", "closes": "18:00"}]}), 403, "forbidden")
    assert await w.count("SELECT count(*) FROM bookings WHERE venue_id = $1",
                         uuid.UUID(room["id"])) == 0
    assert await w.count("SELECT count(*) FROM venues WHERE compound_id = $1",
                         uuid.UUID(w.cid)) == 1


async def test_no_show_is_marked_by_staff_once_the_slot_has_begun(world: World) -> None:
    w = world
    room = await w.venue()
    me = w.who()
    b = await w.post("/bookings", me, **w.booking(room["id"], tomorrow_at(10)))
    await assert_problem(await w.app.post(f"{w.base}/bookings/{b['id']}/no_show",
                                          headers=w.staff()), 409, "illegal-transition")
    assert w.app.app is not None
    await w.app.app[POOL].execute(  # the slot began an hour ago
        "UPDATE bookings SET starts_at = now() - interval '1 hour', ends_at = now(),"
        " blocked = tstzrange(now() - interval '1 hour', now()) WHERE id = $1",
        uuid.UUID(b["id"]))
    await assert_problem(await w.app.post(f"{w.base}/bookings/{b['id']}/no_show", headers=me),
                         403, "forbidden")
    await assert_problem(await w.app.post(f"{w.base}/bookings/{b['id']}/cancel", headers=me),
                         409, "illegal-transition")
    marked = await w.post(f"/bookings/{b['id']}/no_show", w.staff(), status=200)
    assert marked["status"] == "no_show"
    assert await w.outbox(b["id"]) == [BOOKING + "confirmed", BOOKING + "no_show"]
    mine = await ok(await w.app.get(f"{w.base}/bookings?mine=true", headers=me))
    assert [x["id"] for x in mine["items"]] == [b["id"]]
    closures = await ok(await w.app.get(f"{w.base}/venues/{room['id']}/closures",
                                        headers=me))
    assert closures == {"items": [], "next_cursor": None}


async def test_a_closure_retried_with_its_idempotency_key_is_registered_once(world: World) -> None:
    """Staff re-submitting a closure after a lost answer (the README's creating POSTs take
    `Idempotency-Key`): the venue has one closure, the retry gets the first answer, and the
    key with another body is refused."""
    w = world
    room = await w.venue()
    url = f"{w.base}/venues/{room['id']}/closures"
    headers = w.staff() | {"Idempotency-Key": f"closure-{uuid.uuid4()}"}
    body = {"starts_at": iso(tomorrow_at(0, days=3)), "ends_at": iso(tomorrow_at(23, days=3)),
            "reason": "空调检修"}

    first = await w.app.post(url, json=body, headers=headers)
    again = await w.app.post(url, json=body, headers=headers)
    assert (first.status, again.status) == (201, 201)
    assert again.headers.get("Idempotent-Replayed") == "true"
    closed = await first.json()
    assert await again.json() == closed
    await assert_problem(await w.app.post(url, json=body | {"reason": "消防检查"},
                                          headers=headers), 422, "validation-error")
    listed = await ok(await w.app.get(url, headers=w.who()))
    assert [c["id"] for c in listed["items"]] == [closed["id"]]
