"""A resident sees of other residents' bookings only that a slot is taken (issue 9): not who
booked it, what for (purposes carry names, phones and flats), who decided or why, in lists,
single reads, series and clash messages alike. The booker and staff see the booking whole."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.conftest import assert_problem
from tests.integration.test_centre_support import (  # noqa: F401
    LOCAL,
    World,
    ok,
    tomorrow_at,
    world_fixture,
)

PRIVATE = ("王芳", "13800138000", "3栋201")
HIDDEN = ("booker_id", "purpose", "group_id", "series_id", "decided_by", "reason")


def reveals(text: str) -> list[str]:
    return [word for word in PRIVATE if word in text]


async def test_a_resident_sees_only_that_a_slot_is_taken(world: World) -> None:
    w = world
    room = await w.venue(requires_approval=True)
    owner, neighbour = str(uuid.uuid4()), str(uuid.uuid4())
    mine, theirs = w.who(owner), w.who(neighbour)
    purpose = "王芳 13800138000 3栋201 生日聚会"
    booked = await w.post("/bookings", mine, **w.booking(room["id"], tomorrow_at(15), 60,
                                                         purpose=purpose))
    declined = await w.post("/bookings", mine, **w.booking(room["id"], tomorrow_at(18), 60,
                                                           purpose=purpose))
    await w.post(f"/bookings/{declined['id']}/decline", w.staff(), status=200,
                 reason="王芳 上次未归还钥匙")

    listed = await ok(await w.app.get(f"{w.base}/bookings?venue_id={room['id']}",
                                      headers=theirs))
    assert {b["id"] for b in listed["items"]} == {booked["id"], declined["id"]}
    for b in listed["items"]:
        assert all(b[name] is None for name in HIDDEN), b
        assert b["starts_at"] and b["status"] and b["venue_id"] == room["id"]
    one = await ok(await w.app.get(f"{w.base}/bookings/{declined['id']}", headers=theirs))
    assert all(one[name] is None for name in HIDDEN) and not reveals(str(one))

    clash = await w.app.post(f"{w.base}/bookings", headers=theirs,
                             json=w.booking(room["id"], tomorrow_at(15, 30), 30))
    detail = (await assert_problem(clash, 409, "booking-clash"))["detail"]
    assert "已有预约" in detail and not reveals(detail) and booked["id"] not in detail
    day = tomorrow_at(15).date()
    series = await w.post("/booking-series", theirs, venue_id=room["id"], purpose="读书会",
                          weekdays=[day.isoweekday()], start_time="15:00", end_time="16:00",
                          first_day=day.isoformat(), last_day=day.isoformat())
    assert len(series["clashes"]) == 1 and series["clashes"][0]["booking_id"] is None
    assert not reveals(series["clashes"][0]["detail"])

    # the booker and staff see it whole
    own = await ok(await w.app.get(f"{w.base}/bookings/{declined['id']}", headers=mine))
    assert own["purpose"] == purpose and own["reason"] == "王芳 上次未归还钥匙"
    assert own["booker_id"] == owner
    desk = await ok(await w.app.get(f"{w.base}/bookings?venue_id={room['id']}",
                                    headers=w.staff()))
    assert {b["purpose"] for b in desk["items"]} == {purpose}
    clash = await w.app.post(f"{w.base}/bookings", headers=w.staff(),
                             json=w.booking(room["id"], tomorrow_at(15, 30), 30))
    assert booked["id"] in (await assert_problem(clash, 409, "booking-clash"))["detail"]
    assert dt.datetime.fromisoformat(booked["starts_at"]).astimezone(LOCAL).hour == 15
