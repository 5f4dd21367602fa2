"""The party branch takes an issue to the council from the desk, convenes a 党群议事会 with it on
the agenda, checks people in (the printable sheet), records the discussion and publishes the
minutes; on a phone the desk fits the screen and a refused form keeps what was typed."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from playwright.async_api import expect

from tests.e2e.conftest import Http, until
from tests.portal.conftest import Portal, Visitor, demo_compound, dev_sign_in, owners, unique
from tests.portal.desk_fixtures import Browsers, member_of, staff_browsers, submit  # noqa: F401
from tests.portal.test_portal_issues import report_by_api

SHANGHAI = ZoneInfo("Asia/Shanghai")


def beijing(after: dt.timedelta, fmt: str = "%Y-%m-%dT%H:%M") -> str:
    return (dt.datetime.now(SHANGHAI) + after).strftime(fmt)


async def _former_member(http: Http, cid: str, kind: str) -> str:
    """The name of someone whose role in the compound's organisation of this kind ended
    yesterday."""
    street = http.platform.token(roles=["street_office"], compounds=["*"])
    name = unique("前任委员")
    person = (await http.post("directory", "/v1/people", street, {"name": name}, status=201))["id"]
    roster = await http.get("directory", f"/v1/compounds/{cid}/roster", street)
    [org] = [e["organisation"]["id"] for e in roster["items"] if e["organisation"]["kind"] == kind]
    today = dt.datetime.now(SHANGHAI).date()
    await http.post("directory", f"/v1/compounds/{cid}/organisations/{org}/roles", street, {
        "person_id": person, "title": "委员", "starts_on": (today - dt.timedelta(days=30)).isoformat(),
        "ends_on": (today - dt.timedelta(days=1)).isoformat()}, status=201)
    return name


async def test_the_party_branch_convenes_from_an_escalated_issue_checks_in_and_publishes_minutes(
    portal: Portal, http: Http, staff_browsers: Browsers  # noqa: F811
) -> None:
    cid = await demo_compound(http)
    [reporter] = await owners(http, cid, 1, skip=6)
    title = unique("小区东门晚上没有路灯")
    issue_id = await report_by_api(http, reporter, title, anonymous=False)
    branch = await member_of(http, cid, "party_branch")
    s = await staff_browsers()
    await dev_sign_in(s, branch, then=f"/desk/c/{cid}/issues/{issue_id}")
    page = s.page
    await page.get_by_label("提交理由 (必填)").fill("涉及多个责任方, 需要议事会协调")
    await submit(s, "提交议事会", "escalate")

    staff = http.platform.token(roles=["community"], compounds=[cid])

    async def waiting() -> bool:
        items = await http.get("meetings", f"/v1/compounds/{cid}/agenda-items?limit=200", staff)
        return any(i["issue_id"] == issue_id for i in items["items"])
    await until("the escalated issue waits for a meeting", waiting)

    former = await _former_member(http, cid, "community")
    await page.goto(f"{portal.url}/desk/c/{cid}/meetings")
    await s.check("meetings")
    # the form offers the people serving today, whom meetings accepts, not a former member
    offered = await page.locator("fieldset", has_text="另外邀请的个人").inner_text()
    assert branch.name in offered and former not in offered
    await page.get_by_label("会议类型").select_option(label="党群议事会")
    await page.get_by_label("会议名称").fill(unique("东门照明党群议事会"))
    await page.get_by_label("开始 (北京时间)").fill(beijing(dt.timedelta(days=2)))
    await page.get_by_label("结束 (北京时间)").fill(beijing(dt.timedelta(days=2, hours=2)))
    await page.get_by_label("地点").fill("社区党群服务中心二楼")
    for org in ("社区居委会", "物业服务企业"):
        await page.locator("fieldset", has_text="邀请的组织").get_by_label(
            re.compile(org)).first.check()
    async with page.expect_navigation():
        await page.get_by_role("button", name="召集会议").click()
    assert re.search(r"/meetings/[0-9a-f-]{36}\?ok=convene$", page.url), page.url
    await s.check("meeting")

    source = await page.locator("#source option", has_text=title).get_attribute("value")
    await page.get_by_label("事项", exact=True).select_option(source)
    await page.get_by_label("汇报人").fill("社区主任")
    await submit(s, "加入议程", "agenda")
    assert title in await page.locator("article.item").first.inner_text()

    before = await page.locator(".deck").inner_text()
    assert "到会 0 /" in before
    sign_in = page.get_by_role("button", name=re.compile("^为.+签到$"))
    for _ in range(2):
        async with page.expect_navigation():
            await sign_in.first.click()
    deck = await page.locator(".deck").inner_text()
    assert "到会 2 /" in deck and deck.count("✓ 已到") == 2
    sheet = await s.open(f"/desk/c/{cid}/meetings/{page.url.split('/meetings/')[1].split('?')[0]}/sheet",
                         "meeting-sheet")
    assert (await sheet.locator("td", has_text="✓").count()) == 2
    await page.go_back()

    item = page.locator("article.item").first
    await item.locator("summary").click()
    await item.get_by_label("发言要点").fill("东门路灯属于市政, 由社区联系城管; 小区内由物业加装")
    speaker = await item.get_by_label("发言人").locator("option").first.inner_text()
    await submit(s, "记录发言", "opinion")
    assert speaker.split(" (")[0] in await page.locator("article.item").first.inner_text()
    item = page.locator("article.item").first
    await item.locator("summary").click()
    await item.get_by_label("结论", exact=True).select_option(label="达成共识")
    await item.get_by_label("结论说明").fill("物业两周内加装两盏太阳能路灯")
    await submit(s, "记录结论", "outcome")
    item = page.locator("article.item").first
    await item.locator("summary").click()
    await item.get_by_label("后续事项").fill("加装东门太阳能路灯")
    await item.get_by_label("负责组织").select_option(index=1)
    await item.get_by_label("完成期限").fill(beijing(dt.timedelta(days=14), "%Y-%m-%d"))
    await submit(s, "添加后续事项", "follow_up")

    await submit(s, "生成纪要草稿", "minutes_draft")
    draft = await page.get_by_label("纪要草稿").input_value()
    assert "物业两周内加装两盏太阳能路灯" in draft
    await page.get_by_label("纪要草稿").fill(draft + "\n会后由社区跟进市政报修。")
    await submit(s, "保存草稿", "minutes_edit")
    await submit(s, "批准纪要", "minutes_approve")
    await submit(s, "公示纪要", "minutes_publish")
    await s.check("meeting-minutes")
    assert "会后由社区跟进市政报修" in await page.inner_text("main")
    assert "已公示" in await page.inner_text("main")


async def test_on_a_phone_the_desk_fits_the_screen_and_a_refused_meeting_keeps_what_was_typed(
    portal: Portal, http: Http, visitors: object
) -> None:
    cid = await demo_compound(http)
    branch = await member_of(http, cid, "party_branch")
    v: Visitor = await visitors()  # type: ignore[operator]
    await dev_sign_in(v, branch, then=f"/desk/c/{cid}/meetings")
    page = v.page
    await v.check("desk-meetings-phone")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    title = unique("楼道堆物清理协调会")
    await page.get_by_label("会议名称").fill(title)
    # a browser without a date picker shows a text box, where anything can be typed
    await page.get_by_label("开始 (北京时间)").evaluate("box => { box.type = 'text' }")
    await page.get_by_label("开始 (北京时间)").fill("下周二下午两点")
    async with page.expect_navigation():  # unreadable, no end: said in words, not as JSON fields
        await page.get_by_role("button", name="召集会议").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "请填写或检查会议的开始和结束时间 (如 2026-06-01 14:00)")
    assert await page.get_by_label("会议名称").input_value() == title
    await page.get_by_label("开始 (北京时间)").fill(beijing(dt.timedelta(days=2, hours=2)))
    await page.get_by_label("结束 (北京时间)").fill(beijing(dt.timedelta(days=2)))  # before it starts
    await page.get_by_label("地点").fill("3号楼架空层")
    org = page.locator("fieldset", has_text="邀请的组织").get_by_label(re.compile("物业服务企业"))
    await org.first.check()
    async with page.expect_navigation():
        await page.get_by_role("button", name="召集会议").click()
    await expect(page.get_by_role("alert")).to_be_visible()  # the service's words, in place
    await v.check("desk-meetings-refused")
    assert await page.get_by_label("会议名称").input_value() == title
    assert await page.get_by_label("地点").input_value() == "3号楼架空层"
    assert await page.get_by_label("结束 (北京时间)").input_value() == beijing(dt.timedelta(days=2))
    assert await org.first.is_checked()
