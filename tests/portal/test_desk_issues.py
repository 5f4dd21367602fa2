"""The desk's issues queue in the browser: the property company works an issue from accepted to
resolved, and the reporter's own page shows it resolved."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.e2e.conftest import Http
from tests.portal.conftest import Portal, Visitor, demo_compound, dev_sign_in, owners, unique
from tests.portal.desk_fixtures import member_of, reload_until, staff_browsers  # noqa: F401
from tests.portal.test_portal_issues import report_by_api


async def test_the_property_company_works_an_issue_to_resolved_and_the_reporter_sees_it(
    portal: Portal, http: Http, staff_browsers: object, visitors: object  # noqa: F811
) -> None:
    cid = await demo_compound(http)
    [reporter] = await owners(http, cid, 1, skip=5)
    title = unique("2号楼电梯门关不上")
    issue_id = await report_by_api(http, reporter, title, anonymous=False)
    manager = await member_of(http, cid, "property")
    s = await staff_browsers()  # type: ignore[operator]
    await dev_sign_in(s, manager, then=f"/desk/c/{cid}")
    page = s.page
    await s.check("home")
    # overdue issues are marked red, and only when there are some ("0 件逾期" was red too)
    tile = await page.locator(".tiles .card").first.inner_text()
    overdue = re.search(r"(\d+) 件逾期", tile)
    assert (overdue is None) == ("无逾期" in tile), tile
    assert await page.locator(".tiles .late").count() == (1 if overdue else 0)
    assert overdue is None or int(overdue.group(1)) > 0, tile
    lefts = [await page.locator(x).first.evaluate("el => el.getBoundingClientRect().left")
             for x in (".brand", "h1", ".foot p")]
    assert max(lefts) - min(lefts) < 2, lefts  # header, page and footer line up at 1280
    await page.get_by_role("link", name="问题处理").first.click()
    await page.get_by_label("搜索 (标题或描述)").fill(title.split()[-1])  # its unique tail
    await page.get_by_label("责任方").select_option(label="物业服务企业")
    await page.get_by_label("状态").select_option(label="已提交")
    await page.get_by_role("button", name="筛选").click()
    await s.check("issues")
    assert await page.locator("table.queue tbody tr").count() == 1
    await page.get_by_role("link", name=title).click()
    await s.check("issue")
    here = page.get_by_role("navigation", name="工作台栏目").locator('[aria-current="page"]')
    await expect(here).to_have_text("问题处理")
    assert await page.get_by_role("heading", name="提交议事会").count() == 0  # not the property's
    assert "实名上报 · 来源: 居民端 · " in await page.inner_text("main")  # not the code "app"

    # a refusal of the service shows in place, next to the action, and changes nothing
    await page.get_by_label("说明 (选填)", exact=True).fill("与上周的电梯问题相同")  # but no original chosen
    await page.get_by_role("button", name="标为重复").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    assert "已提交" in await page.locator(".status").first.inner_text()
    assert await page.get_by_label("说明 (选填)", exact=True).input_value() == "与上周的电梯问题相同"  # kept
    assert await page.get_by_label("受理说明 (选填)").input_value() == ""  # only in its own form

    await page.get_by_label("受理说明 (选填)").fill("已派维修工查看")
    await page.get_by_role("button", name="受理", exact=True).click()
    await page.wait_for_url(re.compile(r"\?ok=accept$"))
    await expect(page.locator(".status").first).to_have_text("已受理")
    await page.get_by_label("常用答复").select_option(label="已安排上门查看")
    await page.get_by_role("button", name="发出答复").click()
    await page.wait_for_url(re.compile(r"\?ok=respond$"))
    await page.get_by_role("button", name="标为处理中").click()
    await page.wait_for_url(re.compile(r"\?ok=start$"))
    await page.get_by_label("处理结果").fill("更换了门机皮带, 电梯门已恢复正常")
    await page.get_by_role("button", name="标为已解决").click()
    await page.wait_for_url(re.compile(r"\?ok=resolve$"))
    await s.check("issue-resolved")
    timeline = await page.locator(".timeline").inner_text()
    for step in ("受理", "答复", "处理中", "已解决", "更换了门机皮带"):
        assert step in timeline

    v: Visitor = await visitors()  # type: ignore[operator]
    await dev_sign_in(v, reporter, then=f"/c/{cid}/issues/{issue_id}")
    assert await v.page.locator('[data-field="status"]').inner_text() == "已解决"
    assert "更换了门机皮带" in await v.page.inner_text("main")
    # a resident has no desk
    assert await v.page.get_by_role("link", name="工作台").count() == 0
    response = await v.page.goto(f"{portal.url}/desk/c/{cid}/issues")
    assert response is not None and response.status == 404


async def test_an_escalated_issue_becomes_a_proposal_and_shows_it_is_with_the_council(
    portal: Portal, http: Http, staff_browsers: object, visitors: object  # noqa: F811
) -> None:
    """The branch makes a proposal from an escalated issue's page; through meetings' event the
    issue shows 议事中 with the proposal linked, on the desk and on the reporter's page."""
    cid = await demo_compound(http)
    [reporter] = await owners(http, cid, 1, skip=6)
    title = unique("顶楼夏天像蒸笼")
    issue_id = await report_by_api(http, reporter, title, anonymous=False)
    branch = await member_of(http, cid, "party_branch")
    s = await staff_browsers()  # type: ignore[operator]
    await dev_sign_in(s, branch, then=f"/desk/c/{cid}/issues/{issue_id}")
    page = s.page
    assert await page.get_by_role("heading", name="据此提出议案").count() == 0  # not escalated
    await page.get_by_label("提交理由 (必填)").fill("多户反映, 需要议事会研究改造")
    await page.get_by_role("button", name="提交议事会").click()
    await page.wait_for_url(re.compile(r"\?ok=escalate$"))
    await page.get_by_label("事项类别 (决定表决规则)").select_option("art278_7")
    await page.get_by_label("议案内容").fill("   ")  # blank to meetings: refused, on 议案与表决
    async with page.expect_navigation():
        await page.get_by_role("button", name="提出议案 (草案)").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    assert await page.get_by_label("议案标题").input_value() == title
    # sent again from the proposals page: still made from the issue
    await page.get_by_label("议案内容").fill("屋面加隔热层并平改坡")
    await page.get_by_role("button", name="提出议案 (草案)").click()
    await page.wait_for_url(re.compile(r"/proposals/[0-9a-f-]{36}\?ok=create$"))
    pid = page.url.split("/proposals/")[1].split("?")[0]
    came_from = page.locator("#from-issues a")
    assert (await came_from.get_attribute("href") or "").endswith(f"/issues/{issue_id}")

    await page.goto(f"{portal.url}/desk/c/{cid}/issues/{issue_id}")
    await reload_until(s, "issues hears of the proposal", "议事中")
    link = page.locator("#with-council a")
    assert await link.inner_text() == title and (await link.get_attribute("href") or "").endswith(
        f"/proposals/{pid}")
    assert await page.get_by_role("heading", name="据此提出议案").count() == 0
    assert "纳入议案" in await page.locator(".timeline").inner_text()
    await s.check("issue-with-council")

    v: Visitor = await visitors()  # type: ignore[operator]
    await dev_sign_in(v, reporter, then=f"/c/{cid}/issues/{issue_id}")
    mine = await v.page.locator("#with-council").inner_text()
    assert "议事中" in mine and title in mine
    await v.page.locator("#with-council a").click()
    await v.page.wait_for_url(re.compile(f"/c/{cid}/proposals/{pid}$"))


async def test_a_refused_answer_transfer_or_duplicate_keeps_what_was_chosen(
    portal: Portal, http: Http, staff_browsers: object  # noqa: F811
) -> None:
    """Not only the note: the template, the party and the original chosen stay chosen."""
    cid = await demo_compound(http)
    [reporter] = await owners(http, cid, 1, skip=5)
    original = await report_by_api(http, reporter, unique("1号楼电梯异响"), anonymous=False)
    issue_id = await report_by_api(http, reporter, unique("1号楼电梯有异响"), anonymous=False)
    manager = await member_of(http, cid, "property")
    s = await staff_browsers()  # type: ignore[operator]
    await dev_sign_in(s, manager, then=f"/desk/c/{cid}/issues/{issue_id}")
    page = s.page
    # longer than the service takes (the box stops typing at 500 characters; a script does not)
    too_long = "很长的说明" * 401
    for note, choice, value, button in (("respond-note", "常用答复", "scheduled", "发出答复"),
                                        ("reassign-note", "转交给", "owners_committee", "转交"),
                                        ("duplicate-note", "原问题", original, "标为重复")):
        await page.get_by_label(choice).select_option(value)
        await page.locator(f"#{note}").evaluate("(box, text) => { box.value = text }", too_long)
        async with page.expect_navigation():
            await page.get_by_role("button", name=button, exact=True).click()
        await expect(page.get_by_role("alert")).to_be_visible()
        assert await page.get_by_label(choice).input_value() == value, choice
    assert await page.locator(".status").first.inner_text() == "已提交"  # nothing changed
