"""A proposal driven through the desk: the party branch drafts it, starts its workflow, revises
it during the consultation, residents vote in their own browsers, the branch closes the vote
through the workflow that runs the proposal (passed, every threshold in numbers) and takes the
works through implementation and acceptance."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from playwright.async_api import expect

from tests.e2e.conftest import Http
from tests.portal.conftest import Portal, demo_compound, dev_sign_in, owners, unique
from tests.portal.desk_fixtures import (  # noqa: F401
    Browsers,
    council_browsers,
    council_http,
    member_of,
    reload_until,
    submit,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def beijing(after: dt.timedelta) -> str:
    """A datetime-local value, Beijing time, `after` from now."""
    return (dt.datetime.now(SHANGHAI) + after).strftime("%Y-%m-%dT%H:%M:%S")


async def test_a_proposal_goes_from_consultation_to_a_passed_vote_into_works_and_acceptance(
    council: Portal, council_http: Http, council_browsers: Browsers  # noqa: F811
) -> None:
    http = council_http
    cid = await demo_compound(http)
    branch = await member_of(http, cid, "party_branch")
    voters = await owners(http, cid, 2, skip=8)
    s = await council_browsers()
    await dev_sign_in(s, branch, then=f"/desk/c/{cid}/proposals")
    page = s.page
    await s.check("proposals")
    title = unique("更换小区楼道感应灯")
    await page.get_by_label("议案标题").fill(title)
    await page.get_by_label("事项类别 (决定表决规则)").select_option("community")
    await page.get_by_label("议案内容").fill("全小区楼道灯更换为声光感应 LED 灯, 由公共收益列支。")
    await page.get_by_label("预算 (元, 选填)").fill("12800")
    await page.get_by_role("button", name="提出议案 (草案)").click()
    await page.wait_for_url(re.compile(r"/proposals/[0-9a-f-]{36}\?ok=create$"))
    pid = page.url.split("/proposals/")[1].split("?")[0]
    await s.check("proposal-draft")

    await page.get_by_label("召集组织").select_option(label="党组织")
    await page.get_by_label("征求意见截止 (北京时间)").fill(beijing(dt.timedelta(seconds=20)))
    await page.get_by_label("表决天数").fill("1")
    await page.get_by_label("实施里程碑 (每行一项: 名称|到期日|负责方)").fill(
        "更换楼道灯|2027-06-30T18:00:00+08:00|物业")
    await submit(s, "启动", "start")
    council.platform.started.append(f"proposal-{pid}")  # ended on teardown if left running
    await reload_until(s, "the consultation opens", "当前节点: 征求意见")
    await s.check("proposal-consultation")
    await page.get_by_label("修改说明").fill("采纳意见: 先换 1–3 号楼")
    await page.get_by_label("修订后的议案内容", exact=True).fill(
        "1–3 号楼楼道灯更换为声光感应 LED 灯, 由公共收益列支。")
    await submit(s, "发布修订版本", "revise")
    assert "第 2 版" in await page.inner_text("main")

    await reload_until(s, "the workflow opens the vote", "第 2 版的表决", within=90)
    await page.get_by_role("link", name="第 2 版的表决").click()
    vote_url = page.url
    vid = vote_url.rsplit("/", 1)[1]
    await s.check("vote-open")
    assert "简单多数" in await page.inner_text("main")

    for who in voters:  # each resident in a browser of their own
        r = await council_browsers()
        await dev_sign_in(r, who, then=f"/c/{cid}/votes/{vid}")
        await r.page.get_by_label("同意").check()
        await r.page.get_by_role("button", name="投票").click()
        await r.page.wait_for_url(re.compile(r"done=voted-agree$"))
    await page.reload()
    await expect(page.locator('[data-field="ballots"]')).to_have_text("2")
    staff = http.platform.token(roles=["community"], compounds=[cid])
    left = (await http.get("meetings", f"/v1/compounds/{cid}/votes/{vid}/non-voters", staff))
    assert not {v.person_id for v in voters} & set(left["person_ids"])
    assert f"尚未投票 ({len(left['person_ids'])} 人)" in await page.locator(".deck").inner_text()
    await s.check("vote-turnout")

    # the workflow runs this proposal: no cancelling the vote here, and closing it early goes
    # through the workflow, which wants a reason (refused in place without one)
    assert await page.get_by_role("button", name="取消表决").count() == 0
    assert f"议案由流程 proposal-{pid} 推进" in await page.inner_text("main")
    async with page.expect_navigation():
        await page.get_by_role("button", name="结束表决并计票").click()
    assert "请说明原因" in await page.inner_text("main")
    assert await page.locator('[data-field="ballots"]').inner_text() == "2"
    await page.get_by_label("提前结束原因").fill("两位业主代表已投票, 召集人提前计票")
    # the page's live turnout would reload it when the vote closes, but not while its own form
    # is being sent: the one navigation is the form's
    async with page.expect_navigation():
        await page.get_by_role("button", name="结束表决并计票").click()
    await reload_until(s, "the result after the close", "表决结果: 通过")
    await s.check("vote-result")
    result = await page.locator("table").first.inner_text()
    assert "同意的业主人数" in result and "2 人" in result

    await page.goto(f"{council.url}/desk/c/{cid}/proposals/{pid}")
    await reload_until(s, "the passed vote moves the works on", "当前节点: 实施")
    await page.get_by_label("说明").fill("1–3 号楼已全部更换")
    await submit(s, "记录进度", "progress")
    await reload_until(s, "the last milestone done", "当前节点: 验收")
    await page.get_by_label("签字人 (每行一人)").fill("业主代表 林美华\n物业 王经理")
    await submit(s, "验收通过", "accept")
    await reload_until(s, "acceptance approved", "当前节点: 满意度评价")
    await s.check("proposal-accepted")
    history = await page.locator("table").first.inner_text()
    for step in ("征求意见", "表决", "实施", "验收", "满意度评价"):
        assert step in history
    done = await http.get("meetings", f"/v1/compounds/{cid}/proposals/{pid}", staff)
    assert (done["status"], done["current_version"]) == ("passed", 2)


async def test_a_blocked_proposal_shows_why_and_the_branch_retries_then_gives_it_up(
    council: Portal, council_http: Http, council_browsers: Browsers  # noqa: F811
) -> None:
    """Meetings refuses the workflow's step for good (an app withdrew the proposal behind its
    back): the page says the run is blocked, with meetings' reason and what can be done; the
    branch retries (still refused: blocked a second time), then gives the proposal up."""
    http = council_http
    cid = await demo_compound(http)
    branch = await member_of(http, cid, "party_branch")
    auth = http.platform.token(roles=["party_branch"], compounds=[cid], person=branch.person_id)
    made = await http.call("POST", "meetings", f"/v1/compounds/{cid}/proposals", auth, json={
        "title": unique("楼顶光伏"), "matter": "community", "body": "楼顶加装光伏板"}, status=201)
    pid = made["id"]
    s = await council_browsers()
    await dev_sign_in(s, branch, then=f"/desk/c/{cid}/proposals/{pid}")
    page = s.page
    await page.get_by_label("召集组织").select_option(label="党组织")
    await page.get_by_label("征求意见截止 (北京时间)").fill(beijing(dt.timedelta(seconds=8)))
    await submit(s, "启动", "start")
    council.platform.started.append(f"proposal-{pid}")  # ended on teardown if left running
    await reload_until(s, "the consultation opens", "当前节点: 征求意见")
    app = http.platform.token(roles=[], compounds=["*"], scopes=["meetings:manage"],
                              person="app:admin-script")
    await http.post("meetings", f"/v1/compounds/{cid}/proposals/{pid}/withdraw", app,
                    json={"reason": "脚本误操作"})

    await reload_until(s, "the refused vote blocks the run", "流程受阻", within=90)
    blocked = await page.locator("#blocked").inner_text()
    assert "议事服务拒绝开启表决 (409): 议案已撤回, 不能表决" in blocked and "第 1 次" in blocked
    assert "表决正在开启" in await page.inner_text("main")
    await s.check("proposal-blocked")
    await page.goto(f"{council.url}/desk/c/{cid}/proposals")
    row = page.locator("tr", has_text=made["title"])
    assert "受阻, 待处理" in await row.inner_text()  # the list says which runs wait for people
    await page.goto(f"{council.url}/desk/c/{cid}/proposals/{pid}")
    await submit(s, "重试", "retry")
    await reload_until(s, "refused again", "第 2 次")
    await page.get_by_label("放弃原因").fill("议案已在议事服务中撤回")
    await submit(s, "放弃议案", "give_up")
    await reload_until(s, "the run ends", "当前节点: 已放弃")
    assert await page.locator("#blocked").count() == 0
    assert "议案已在议事服务中撤回" in await page.locator("table").first.inner_text()


async def test_a_budget_that_is_no_amount_is_said_next_to_the_field_and_nothing_is_drafted(
    council: Portal, council_http: Http, council_browsers: Browsers  # noqa: F811
) -> None:
    """«NaN», «Infinity» or «1e999999» in the budget gave a 500 (no int holds them), and a
    budget the desk could not read was left out of the draft without a word. The form comes
    back with the words next to the budget, as typed, and no proposal is drafted."""
    http = council_http
    cid = await demo_compound(http)
    branch = await member_of(http, cid, "party_branch")
    s = await council_browsers()
    await dev_sign_in(s, branch, then=f"/desk/c/{cid}/proposals")
    csrf = await s.page.locator('input[name="csrf"]').first.get_attribute("value")
    title = unique("更换楼道感应灯")
    for budget in ("NaN", "Infinity", "1e999999", "十二万"):
        answer = await s.page.request.post(f"{council.url}/desk/c/{cid}/proposals", form={
            "csrf": csrf or "", "title": title, "matter": "community",
            "body": "全小区楼道灯更换为声光感应 LED 灯。", "budget": budget}, max_redirects=0)
        text = await answer.text()
        assert answer.status == 422, (budget, answer.status, text[:500])
        budget_field = re.search(r'<input id="budget"[^>]*>', text)
        assert budget_field and 'aria-invalid="true"' in budget_field.group(0), budget
        assert f'value="{budget}"' in budget_field.group(0)  # kept as typed, to correct it
        assert "预算须为金额" in text.split('id="refused"')[1].split("</p>")[0], budget
    staff = http.platform.token(roles=["party_branch"], compounds=[cid])
    titles, cursor = [], ""
    while True:
        page = await http.get("meetings", f"/v1/compounds/{cid}/proposals?limit=200"
                              + (f"&cursor={cursor}" if cursor else ""), staff)
        titles += [p["title"] for p in page["items"]]
        if not (cursor := page.get("next_cursor") or ""):
            break
    assert title not in titles
