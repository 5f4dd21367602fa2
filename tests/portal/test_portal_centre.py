"""The neighbourhood centre for residents in the browser: a resident signs up for a full activity
and sees their place on the waiting list, books a venue and finds it under my bookings, and a
clashing booking shows the centre's own detail next to the date; every page checked and
photographed at 390×844 and 1280×800 (the platform with the centre: `council`)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.conftest import Http
from tests.portal.conftest import (
    Portal,
    Visitor,
    demo_compound,
    dev_sign_in,
    owners,
    phone_browsers,
    unique,
)
from tests.portal.desk_fixtures import council_http  # noqa: F401

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def residents(browser: Browser, council: Portal) -> AsyncIterator[Any]:
    """residents() → a phone-sized browser on the platform with the centre."""
    async with phone_browsers(browser, council) as new:
        yield new


async def test_a_resident_waits_for_a_full_activity_and_books_a_venue(
    council: Portal, council_http: Http, residents: Any  # noqa: F811
) -> None:
    http = council_http
    cid = await demo_compound(http)
    base = f"/v1/compounds/{cid}"
    staff = http.platform.token(roles=["community"], compounds=[cid])
    room = unique("书画室")
    venue = await http.post("centre", f"{base}/venues", staff, {
        "name": room, "kind": "room", "capacity": 12,
        "opening_hours": [{"weekday": d, "opens": "07:00", "closes": "22:00"} for d in range(1, 8)]},
        status=201)
    starts = (dt.datetime.now(SHANGHAI) + dt.timedelta(days=3)).replace(
        hour=9, minute=30, second=0, microsecond=0)
    title = unique("老年人智能手机课堂")
    activity = await http.post("centre", f"{base}/activities", staff, {
        "title": title, "organiser": "社区居委会", "audience": "elderly", "capacity": 1,
        "starts_at": starts.isoformat(), "ends_at": (starts + dt.timedelta(hours=1)).isoformat()},
        status=201)
    first, me = await owners(http, cid, 2, skip=20)
    theirs = http.platform.token(roles=["resident", "owner"], compounds=[cid], person=first.person_id)
    await http.post("centre", f"{base}/activities/{activity['id']}/signups", theirs, {}, status=201)

    v: Visitor = await residents()
    await dev_sign_in(v, me, then=f"/c/{cid}")
    await v.check("home-centre")
    await v.page.get_by_role("heading", name="近期活动").wait_for()  # the centre's, on the home page
    await v.page.get_by_role("navigation", name="主要栏目").get_by_role("link", name="邻里中心").click()
    await v.check("centre")
    assert room in await v.page.inner_text("main")
    hours = v.page.locator("li", has_text=room).get_by_text(re.compile(r"^周. 07:00–22:00$"))
    await expect(hours).to_have_count(7)
    for day in await hours.all():  # on a phone, each day's hours stay on one line
        assert await day.evaluate("el => el.getClientRects().length") == 1

    # the activity is full: signing up puts me first on the waiting list
    await v.open(f"/c/{cid}/centre/activities")
    card = v.page.locator(f"#a-{activity['id']}")
    assert "名额已满" in await card.inner_text()
    await v.page.get_by_role("button", name=f"报名候补: {title}").click()
    await v.page.wait_for_url(re.compile(r"done=signed-up"))
    await v.check("centre-activities")
    assert "候补第 1 位" in await card.inner_text()

    # book the new room: it shows under my bookings
    await v.open(f"/c/{cid}/centre/book")
    await v.page.get_by_label("场地").select_option(venue["id"])
    purpose = unique("楼栋读书会")
    await v.page.get_by_label("用途").fill(purpose)
    await v.page.get_by_role("button", name="提交预约").click()
    await v.page.wait_for_url(re.compile(r"done=booked"))
    await v.check("centre-book")
    mine = await v.page.locator("#mine").inner_text()
    assert purpose in mine and room in mine

    # the same hour again: the centre's detail shows next to the date, and nothing is booked
    await v.page.get_by_label("场地").select_option(venue["id"])
    await v.page.get_by_label("用途").fill(unique("重复的预约"))
    await v.page.get_by_role("button", name="提交预约").click()
    await v.page.wait_for_load_state("load")
    await v.check("centre-book-clash")
    tabs = v.page.get_by_role("navigation", name="邻里中心")  # the refused form keeps its tab
    await expect(tabs.locator('[aria-current="page"]')).to_have_text("预约场地")
    error = v.page.locator("#day-error")
    assert await error.is_visible()
    detail = (await error.inner_text()).strip()
    assert detail and await v.page.get_by_label("日期").get_attribute("aria-invalid") == "true"
    my_token = http.platform.token(roles=["resident", "owner"], compounds=[cid], person=me.person_id)
    booked = await http.get("centre", f"{base}/bookings?mine=true&venue_id={venue['id']}", my_token)
    assert [b["purpose"] for b in booked["items"]] == [purpose]

    # join an approved interest group: it shows as joined, and among my groups
    group = await http.post("centre", f"{base}/interest-groups", theirs, {
        "name": unique("书法小组"), "kind": "culture", "description": "每周六上午练字"}, status=201)
    await http.post("centre", f"{base}/interest-groups/{group['id']}/approve", staff)
    await v.open(f"/c/{cid}/centre/groups")
    await v.page.get_by_role("button", name=f"加入: {group['name']}").click()
    await v.page.wait_for_url(re.compile(r"done=joined"))
    await v.check("centre-groups")
    await v.page.get_by_role("button", name=f"退出: {group['name']}").wait_for()
    await v.open(f"/c/{cid}/centre")
    assert group["name"] in await v.page.locator("main").inner_text()
    # a book lent to me at the desk shows with its due date
    book = await http.post("centre", f"{base}/books", staff, {"title": unique("平凡的世界")},
                           status=201)
    loan = await http.post("centre", f"{base}/loans", staff,
                           {"book_id": book["id"], "person_id": me.person_id}, status=201)
    await v.open(f"/c/{cid}/centre/library", "centre-library")
    lent = await v.page.locator("main").inner_text()
    assert book["title"] in lent and f"应还日期 {loan['due_on']}" in lent
