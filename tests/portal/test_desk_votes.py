"""A vote run from the desk without a workflow: the owners' committee opens it on a proposal in
consultation (the lawful rule shown), enters a proxy ballot on paper (the audit list says who
entered what), a resident votes online, and the close gives every threshold in numbers."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from playwright.async_api import expect

from tests.e2e.conftest import Http
from tests.portal.conftest import Portal, demo_compound, dev_sign_in, owners, unique
from tests.portal.desk_fixtures import Browsers, member_of, reload_until, staff_browsers, submit  # noqa: F401

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_the_owners_committee_opens_a_vote_enters_a_proxy_ballot_and_closes_it(
    portal: Portal, http: Http, staff_browsers: Browsers  # noqa: F811
) -> None:
    cid = await demo_compound(http)
    staff = http.platform.token(roles=["community"], compounds=[cid])
    proposal = await http.post("meetings", f"/v1/compounds/{cid}/proposals", staff, {
        "title": unique("使用维修资金更换 3 号楼电梯"), "matter": "art278_5",
        "body": "3 号楼电梯使用 18 年, 更换为新电梯, 使用专项维修资金。"}, status=201)
    p = f"/v1/compounds/{cid}/proposals/{proposal['id']}"
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat()
    await http.post("meetings", f"{p}/consultation", staff, {"closes_at": closes}, status=200)
    voter, by_proxy = await owners(http, cid, 2, skip=11)
    committee = await member_of(http, cid, "owners_committee")

    s = await staff_browsers()
    await dev_sign_in(s, committee, then=f"/desk/c/{cid}/proposals/{proposal['id']}")
    page = s.page
    assert "民法典第278条事项按法定规则表决" in await page.inner_text(".deck")
    await page.get_by_label("无记名投票").check()
    async with page.expect_navigation():  # no closing time yet: said in words, not as JSON
        await page.get_by_role("button", name="发起表决", exact=True).click()
    await expect(page.get_by_role("alert")).to_have_text(
        "请填写或检查表决截止时间 (如 2026-06-01 18:00)")
    assert await page.get_by_label("无记名投票").is_checked()  # kept as it was sent
    await page.get_by_label("无记名投票").uncheck()
    await page.get_by_label("表决截止 (北京时间)").fill(
        (dt.datetime.now(SHANGHAI) + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"))
    await submit(s, "发起表决", "open_vote")
    await page.get_by_role("link", name=re.compile("第 1 版的表决")).click()
    await s.check("vote-paper")
    assert "双三分之二参与" in await page.inner_text("main")

    await page.get_by_label("业主", exact=True).select_option(by_proxy.person_id)
    await page.get_by_label("意见").select_option(label="同意")
    await page.get_by_label("代理人姓名 (代理投票时填写)").fill("业主之子 王小明")
    await submit(s, "录入", "paper")
    audit = await page.locator("section", has_text="纸质与代理票录入记录").inner_text()
    assert "王小明" in audit and "代理" in audit and "同意" in audit
    assert by_proxy.name in audit and committee.name in audit  # whose ballot, who entered it

    vid = page.url.split("/votes/")[1].split("?")[0]
    mine = http.platform.token(roles=["resident", "owner"], compounds=[cid], person=voter.person_id)
    await http.post("meetings", f"/v1/compounds/{cid}/votes/{vid}/ballots", mine,
                    {"choice": "oppose"}, status=201)
    await page.reload()
    assert await page.locator('[data-field="ballots"]').inner_text() == "2"
    counted = await page.locator("#turnout").inner_text()  # by how each ballot came in
    assert "网上 1" in counted and "代理 1" in counted

    async with page.expect_navigation():
        await page.get_by_role("button", name="结束表决并计票").click()
    await reload_until(s, "the result after the close", "表决结果: 未通过")
    await s.check("vote-rejected")
    result = await page.locator("table").first.inner_text()
    for row in ("参与表决的专有部分面积", "参与表决的业主人数", "同意的专有部分面积", "同意的业主人数"):
        assert row in result
    assert "✗ 未达到" in result
