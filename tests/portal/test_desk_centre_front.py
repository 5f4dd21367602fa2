"""The neighbourhood centre's front desk in a browser: the community's worker checks a signed-up
resident in at an activity, lends a book to a resident named by phone and takes it back, sees
an overdue loan marked first, publishes an activity (a refused form keeps what was typed and
names its own label) and registers a venue."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import asyncpg
from playwright.async_api import Page

from tests.e2e.conftest import Http
from tests.portal.conftest import Portal, demo_compound, dev_sign_in, owners, screenshot, unique
from tests.portal.desk_fixtures import (  # noqa: F401
    Browsers,
    council_browsers,
    council_http,
    member_of,
    submit,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def photo(page: Page, name: str) -> None:
    """The page on a phone (the whole of it) and at the desk's 1280 px, into .screenshots/."""
    await page.set_viewport_size({"width": 390, "height": 844})
    await screenshot(page, name)
    await page.set_viewport_size({"width": 1280, "height": 800})


async def test_a_signed_up_resident_is_checked_in_at_the_desk_and_counted(
    council: Portal, council_http: Http, council_browsers: Browsers  # noqa: F811
) -> None:
    http = council_http
    cid = await demo_compound(http)
    base = f"/v1/compounds/{cid}"
    staff = http.platform.token(roles=["community"], compounds=[cid])
    start = dt.datetime.now(SHANGHAI) + dt.timedelta(minutes=30)  # check-in opens an hour before
    title = unique("重阳节包饺子")
    activity = await http.post("centre", f"{base}/activities", staff, {
        "title": title, "organiser": "社区居委会", "audience": "elderly",
        "starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
        "capacity": 10}, status=201)
    [came, late] = await owners(http, cid, 2, skip=14)
    for who in (came, late):
        token = http.platform.token(roles=["resident", "owner"], compounds=[cid],
                                    person=who.person_id)
        await http.post("centre", f"{base}/activities/{activity['id']}/signups", token,
                        {"name": who.name}, status=201)

    worker = await member_of(http, cid, "community")
    s = await council_browsers()
    await dev_sign_in(s, worker, then=f"/desk/c/{cid}/centre")
    page = s.page
    await page.get_by_role("link", name=title, exact=True).click()
    await s.check("centre-activity")
    assert "已签到 0 / 报名成功 2" in await page.inner_text("main")
    await submit(s, f"为{came.name}签到", "check-in")
    main = await page.inner_text("main")
    assert "已签到 1 / 报名成功 2" in main, main
    row = await page.locator("tr", has_text=came.name).inner_text()
    assert "✓ 已签到" in row, row
    await photo(page, "desk-centre-activity")
    signups = await http.get("centre", f"{base}/activities/{activity['id']}/signups", staff)
    checked = {x["person_id"]: x["checked_in_at"] is not None for x in signups["items"]}
    assert checked == {came.person_id: True, late.person_id: False}


async def test_the_desk_lends_a_book_marks_the_overdue_first_and_takes_it_back(
    council: Portal, council_http: Http, council_browsers: Browsers  # noqa: F811
) -> None:
    http = council_http
    cid = await demo_compound(http)
    base = f"/v1/compounds/{cid}"
    staff = http.platform.token(roles=["community"], compounds=[cid])
    [reader, other] = await owners(http, cid, 2, skip=16)
    worker = await member_of(http, cid, "community")
    s = await council_browsers()
    await dev_sign_in(s, worker, then=f"/desk/c/{cid}/centre")
    page = s.page
    await page.get_by_role("link", name="图书角: 借书、还书、逾期 →").click()
    await s.check()

    # a book goes on the shelf, and is lent to a resident named by phone
    title = unique("城南旧事")
    await page.get_by_label("书名", exact=True).fill(title)
    await page.get_by_label("作者 (选填)").fill("林海音")
    await submit(s, "上架", "book")
    await page.get_by_label("图书", exact=True).select_option(label=f"《{title}》 可借 1 册")
    await page.get_by_label("读者手机号").fill(reader.phone)
    await submit(s, "借出", "lend")
    row = await page.locator("table.queue tr", has_text=title).inner_text()
    assert reader.name in row and "逾期" not in row, row

    # another reader's loan three days overdue is marked, and listed first
    late_title = unique("呼兰河传")
    book = await http.post("centre", f"{base}/books", staff, {"title": late_title}, status=201)
    loan = await http.post("centre", f"{base}/loans", staff,
                           {"book_id": book["id"], "person_id": other.person_id}, status=201)
    due = dt.datetime.now(SHANGHAI).date() - dt.timedelta(days=3)
    conn = await asyncpg.connect(council.db)
    try:
        await conn.execute("UPDATE centre.loans SET due_on = $1 WHERE id = $2", due, loan["id"])
    finally:
        await conn.close()
    await page.reload()
    await s.check()
    first = await page.locator("table.queue tbody tr").first.inner_text()
    assert late_title in first and other.name in first and "逾期 3 天" in first, first
    await photo(page, "desk-library")

    # the first book comes back: no longer on loan
    await submit(s, f"还书: 《{title}》 {reader.name}", "return")
    assert title not in await page.locator("table.queue").inner_text()
    mine = http.platform.token(roles=["resident", "owner"], compounds=[cid],
                               person=reader.person_id)
    [lent] = (await http.get("centre", f"{base}/books?q={title}", staff))["items"]
    loans = (await http.get("centre", f"{base}/my-library", mine))["loans"]
    assert [x["status"] for x in loans if x["book_id"] == lent["id"]] == ["returned"]


async def test_a_refused_lend_or_activity_keeps_what_was_typed_then_both_go_through(
    council: Portal, council_http: Http, council_browsers: Browsers  # noqa: F811
) -> None:
    http = council_http
    cid = await demo_compound(http)
    worker = await member_of(http, cid, "community")
    s = await council_browsers()
    await dev_sign_in(s, worker, then=f"/desk/c/{cid}/centre/library")
    page = s.page

    # a phone nobody in the compound has: the form says so, the phone marked and kept
    await page.get_by_label("读者手机号").fill("1999999")
    async with page.expect_navigation():
        await page.get_by_role("button", name="借出", exact=True).click()
    assert await page.get_by_role("alert").inner_text() == "请输入读者的 11 位手机号码"
    phone = page.locator("#phone")
    assert await phone.get_attribute("aria-invalid") == "true"
    assert await phone.input_value() == "1999999"

    # an activity without a name: the centre names title, the form says 活动名称
    await s.open(f"/desk/c/{cid}/centre")
    title = unique("亲子绘本共读")
    start = (dt.datetime.now(SHANGHAI) + dt.timedelta(days=3)).replace(hour=15, minute=0)
    await page.get_by_label("活动名称").fill("   ")
    await page.get_by_label("面向").select_option(label="亲子家庭")
    await page.get_by_label("开始 (北京时间)").fill(start.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_label("结束 (北京时间)").fill(start.strftime("%Y-%m-%dT16:30"))
    await page.get_by_label("名额").fill("20")
    async with page.expect_navigation():
        await page.get_by_role("button", name="发布活动", exact=True).click()
    alert = await page.get_by_role("alert").inner_text()
    assert alert.startswith("活动名称: ") and "title" not in alert, alert
    assert await page.locator("#a-title").get_attribute("aria-invalid") == "true"
    assert await page.get_by_label("面向").input_value() == "families"
    assert await page.get_by_label("名额").input_value() == "20"
    assert await page.get_by_label("开始 (北京时间)").input_value() == start.strftime("%Y-%m-%dT%H:%M")
    await photo(page, "desk-centre-refused")
    await page.get_by_label("活动名称").fill(title)
    await submit(s, "发布活动", "activity")
    row = await page.locator("tr", has_text=title).inner_text()
    assert f"{start.month:02d}-{start.day:02d} 15:00" in row and "20" in row, row

    # a venue open 08:00–21:00 on weekdays
    room = unique("书画室")
    await page.get_by_label("场地名称").fill(room)
    await page.get_by_label("容纳人数").fill("12")
    for day in "六日":
        await page.get_by_label(f"周{day}", exact=True).uncheck()
    await submit(s, "登记场地", "venue")
    await s.check()
    listed = await page.locator("li", has_text=room).inner_text()
    assert "12 人" in listed and "周一至周五" in listed, listed
    await photo(page, "desk-centre")
