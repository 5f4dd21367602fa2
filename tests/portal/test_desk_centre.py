"""The neighbourhood centre at the desk: a resident's booking of a room that needs approval shows
on the week's calendar as pending; the community approves it and a proposed interest group."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tests.e2e.conftest import Http
from tests.portal.conftest import Portal, demo_compound, dev_sign_in, owners, unique
from tests.portal.desk_fixtures import (  # noqa: F401
    Browsers,
    council_browsers,
    council_http,
    member_of,
    submit,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_the_community_approves_a_booking_from_the_weeks_calendar_and_a_group(
    council: Portal, council_http: Http, council_browsers: Browsers  # noqa: F811
) -> None:
    http = council_http
    cid = await demo_compound(http)
    base = f"/v1/compounds/{cid}"
    staff = http.platform.token(roles=["community"], compounds=[cid])
    room = unique("多功能活动室")
    venue = await http.post("centre", f"{base}/venues", staff, {
        "name": room, "kind": "room", "capacity": 30, "requires_approval": True,
        "opening_hours": [{"weekday": d, "opens": "07:00", "closes": "22:00"} for d in range(1, 8)]},
        status=201)
    [resident] = await owners(http, cid, 1, skip=12)
    mine = http.platform.token(roles=["resident", "owner"], compounds=[cid], person=resident.person_id)
    now = dt.datetime.now(SHANGHAI)
    start = (now + dt.timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    if not 7 <= start.hour <= 20:  # the room is open 07:00–22:00
        start = (start + dt.timedelta(days=1)).replace(hour=10)
    monday = now.date() - dt.timedelta(days=now.weekday())
    week = (start.date() - monday).days // 7  # 0, or 1 late on a Sunday
    purpose = unique("楼栋邻里茶话会")
    booking = await http.post("centre", f"{base}/bookings", mine, {
        "venue_id": venue["id"], "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=1)).isoformat(), "purpose": purpose}, status=201)
    assert booking["status"] == "pending"
    group = await http.post("centre", f"{base}/interest-groups", mine, {
        "name": unique("太极拳队"), "kind": "sports", "description": "每天早上公园打太极"}, status=201)

    worker = await member_of(http, cid, "community")
    s = await council_browsers()
    await dev_sign_in(s, worker, then=f"/desk/c/{cid}/centre?week={week}")
    page = s.page
    await s.check("centre")
    week = await page.locator("table.week").inner_text()
    assert room in week and f"{purpose} (待审核)" in week
    await submit(s, f"通过预约: {purpose}", "approve")
    await page.goto(f"{council.url}/desk/c/{cid}/centre?week={week}")
    await submit(s, f"审核通过: {group['name']}", "group")
    assert f"{purpose} (待审核)" not in await page.locator("table.week").inner_text()
    done = await http.get("centre", f"{base}/bookings/{booking['id']}", staff)
    assert done["status"] == "confirmed"
    assert (await http.get("centre", f"{base}/interest-groups/{group['id']}", staff))["status"] \
        == "approved"
