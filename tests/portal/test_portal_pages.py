"""Every other page a resident uses, opened in the browser with the data the services hold:
proposals and opinions, bills, meetings and minutes, the inbox with its live count, preferences;
each checked (labels, lang, headings, no phone number) and photographed."""

from __future__ import annotations

import datetime as dt
import re
from fractions import Fraction
from typing import Any

from playwright.async_api import expect

from tests.e2e.conftest import Http
from tests.portal.conftest import Portal, Resident, Visitor, demo_compound, dev_sign_in, owners, unique


def later(hours: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).isoformat()


async def consulting_proposal(http: Http, cid: str, *, revised: bool = True) -> tuple[str, str]:
    """A proposal in consultation, in its second version unless not `revised`."""
    staff = http.platform.token(roles=["party_branch"], compounds=[cid])
    title = unique("二次供水水泵电费分摊方案")
    p = await http.post("meetings", f"/v1/compounds/{cid}/proposals", staff, {
        "title": title, "matter": "community", "body": "水泵电费按各户用水量分摊 (谁受益谁承担)。"},
        status=201)
    base = f"/v1/compounds/{cid}/proposals/{p['id']}"
    if revised:
        await http.post("meetings", f"{base}/versions", staff, {
            "body": "水泵电费按各户用水量分摊; 一楼不用加压水泵, 不参与分摊。",
            "change_summary": "采纳一楼住户意见: 一楼不受益, 不分摊"}, status=201)
    await http.post("meetings", f"{base}/consultation", staff, {"closes_at": later(72)})
    return str(p["id"]), title


async def test_a_resident_reads_a_proposal_and_gives_an_opinion_while_consultation_is_open(
    portal: Portal, http: Http, visitors: Any
) -> None:
    cid = await demo_compound(http, "南山归侨安置小区")
    [me] = await owners(http, cid, 1, skip=5)
    pid, title = await consulting_proposal(http, cid)
    v: Visitor = await visitors()
    await dev_sign_in(v, me, then=f"/c/{cid}")
    await v.check("home-consultation")
    await v.page.get_by_role("link", name=title).first.click()
    await v.check("proposal")
    here = v.page.get_by_role("navigation", name="主要栏目").locator('[aria-current="page"]')
    await expect(here).to_have_text("议事与表决")  # the menu says where I am
    main = await v.page.inner_text("main")
    assert "第 2 版" in main and "一楼不受益, 不分摊" in main
    added = await v.page.locator(".diff ins").all_inner_texts()
    assert any("一楼不用加压水泵" in t for t in added)  # what changed from version 1
    assert "与上一版相比: 新增的文字, 删去的文字" in main  # and how the change is marked
    await v.page.get_by_role("button", name="提交意见").click()  # nothing chosen: said next to it
    await expect(v.page.locator("#stance-error")).to_have_text("请选择支持、反对或建议")
    await v.check()
    await v.page.get_by_label("建议").check()
    await v.page.get_by_label("意见内容").fill("建议每季度公示一次水泵电表读数。")
    await v.page.get_by_role("button", name="提交意见").click()
    await v.page.wait_for_url(re.compile(rf"/proposals/{pid}\?done=opinion$"))
    row = v.page.get_by_role("row", name=re.compile("第 2 版"))
    await expect(row).to_have_text(re.compile(r"第 2 版\s*0\s*0\s*1"))
    await v.page.get_by_role("link", name="议事与表决").click()
    await v.check("proposals")


async def test_a_first_version_has_no_changes_to_explain(
    portal: Portal, http: Http, visitors: Any
) -> None:
    cid = await demo_compound(http, "南山归侨安置小区")
    [me] = await owners(http, cid, 1, skip=5)
    pid, title = await consulting_proposal(http, cid, revised=False)
    v: Visitor = await visitors()
    await dev_sign_in(v, me, then=f"/c/{cid}/proposals/{pid}")
    main = await v.page.inner_text("main")
    assert title in main and "第 1 版" in main
    assert "与上一版相比" not in main and await v.page.locator(".diff").count() == 0


async def billed_cost(http: Http, who: Resident, *neighbours: Resident) -> str:
    """The pump's electricity shared by my unit and my neighbours', half by area and half by
    the water each read; 123.45 yuan does not split into whole fen, so it is rounded."""
    cid = who.compound_id
    staff = http.platform.token(roles=["party_branch"], compounds=[cid])
    name = unique("二次供水水泵电费")
    units = [who.unit_id, *(n.unit_id for n in neighbours)]
    cost = await http.post("meetings", f"/v1/compounds/{cid}/costs", staff, {
        "name": name, "description": "加压水泵的电费, 只由用到加压水的住户分摊", "usage_unit": "m³",
        "beneficiaries": {"unit_ids": units}}, status=201)
    k = f"/v1/compounds/{cid}/costs/{cost['id']}"
    await http.post("meetings", f"{k}/readings", staff, {"period": "2026-10", "readings": [
        {"unit_id": u, "usage": usage} for u, usage in zip(units, ("12.5", "7", "3.25"),
                                                          strict=False)]}, status=201)
    plan = await http.post("meetings", f"{k}/plans", staff, {"name": "面积用量各半", "method": {
        "method": "weighted", "parts": [{"method": "area", "weight": "1/2"},
                                        {"method": "usage", "weight": "1/2"}]}}, status=201)
    await http.post("meetings", f"{k}/plans/{plan['id']}/adopt", staff)
    await http.post("meetings", f"{k}/bills", staff, {"period": "2026-10", "total_fen": 12_345},
                    status=201)
    return name


async def test_my_bills_show_my_share_and_how_it_was_computed(
    portal: Portal, http: Http, visitors: Any
) -> None:
    cid = await demo_compound(http, "南山归侨安置小区")
    me, *neighbours = await owners(http, cid, 3, skip=6)
    name = await billed_cost(http, me, *neighbours)
    staff = http.platform.token(roles=["party_branch"], compounds=[cid])
    costs = await http.get("meetings", f"/v1/compounds/{cid}/costs?limit=200", staff)
    cost = next(k for k in costs["items"] if k["name"] == name)
    [bill] = (await http.get("meetings", f"/v1/compounds/{cid}/costs/{cost['id']}/bills",
                             staff))["items"]
    line = next(x for x in bill["lines"] if x["unit_id"] == me.unit_id)
    basis = line["basis"]
    exact = Fraction(basis["exact_fen"])
    assert exact.denominator != 1  # the test needs a share that is rounded to the fen

    v: Visitor = await visitors()
    await dev_sign_in(v, me, then=f"/c/{cid}/bills")
    await v.check("bills")
    section = v.page.locator("section", has=v.page.get_by_role("heading", name=name))
    text = await section.inner_text()
    assert "2026-10" in text and "面积用量各半" in text
    assert f"本户应付 {line['amount_fen'] / 100:,.2f} 元" in text  # to the fen the bill says
    by_area, by_usage = (p["share"] for p in basis["parts"])
    assert f"本户 {basis['area_centi'] / 100:.2f} m² ÷ 受益房屋共 " \
        f"{bill['basis']['area_centi'] / 100:.2f} m² = {by_area} (约 " in text
    assert f"本户 12.5 m³ ÷ 共 22.75 m³ = {by_usage} (约 {float(Fraction(by_usage)) * 100:.2f}%)" \
        in text
    assert f"本户份额 = 1/2 × {by_area} + 1/2 × {by_usage} = {basis['share']} (约 " in text
    assert f"总额 123.45 元 × {basis['share']} = {float(exact / 100):,.4f}… 元" in text
    assert f"取整到分 (最大余数法, 各户合计与总额分毫不差): {line['amount_fen'] / 100:,.2f} 元" in text
    await expect(section.locator("article")).to_have_count(1)  # my line; not my neighbours'


async def test_meetings_upcoming_published_minutes_and_the_calendar_link(
    portal: Portal, http: Http, visitors: Any
) -> None:
    cid = await demo_compound(http, "阳光花园城")
    [me] = await owners(http, cid, 1, skip=8)
    roster = await http.get("directory", f"/v1/compounds/{cid}/roster",
                            http.platform.token(roles=["community"], compounds=[cid]))
    secretary = next(e["roles"][0]["person_id"] for e in roster["items"]
                     if e["organisation"]["kind"] == "party_branch")
    staff = http.platform.token(roles=["party_branch"], compounds=[cid], person=secretary)
    title = unique("党群议事会: 篮球场夜间照明")
    meeting = await http.post("meetings", f"/v1/compounds/{cid}/meetings", staff, {
        "kind": "party_masses_council", "title": title, "starts_at": later(48),
        "ends_at": later(50), "convener_kind": "party_branch", "place": "社区活动室"},
        status=201)
    m = f"/v1/compounds/{cid}/meetings/{meeting['id']}"
    await http.post("meetings", f"{m}/minutes", staff, status=201)
    await http.post("meetings", f"{m}/minutes/approve", staff)
    await http.post("meetings", f"{m}/minutes/publish", staff, {"notice_days": 7})
    v: Visitor = await visitors()
    await dev_sign_in(v, me, then=f"/c/{cid}/meetings")
    await v.check("meetings")
    main = await v.page.inner_text("main")
    assert title in main and "社区活动室" in main and "公示至" in main
    feed = await v.page.get_by_role("link", name="订阅会议日历 (iCalendar)").get_attribute("href")
    assert feed and feed.endswith(".ics")
    anonymous = await v.context.browser.new_context()  # type: ignore[union-attr]
    try:  # a calendar app has no session: the signed link alone works
        calendar = await anonymous.request.get(portal.url + feed)
        assert calendar.ok and "BEGIN:VCALENDAR" in await calendar.text()
        forged = await anonymous.request.get(portal.url + feed.replace(feed[-8:-4], "0000"))
        assert forged.status == 404
    finally:
        await anonymous.close()


async def test_the_inbox_counts_unread_live_and_preferences_show_errors_by_the_field(
    portal: Portal, http: Http, visitors: Any
) -> None:
    cid = await demo_compound(http, "三盛四季公园")
    [me] = await owners(http, cid, 1)
    v: Visitor = await visitors()
    await dev_sign_in(v, me, then="/inbox")
    await v.check("inbox")
    badge = v.page.locator(".bar .badge")
    before = await badge.inner_text()
    portal_app = http.platform.token(roles=[], compounds=["*"], scopes=["notify:send"],
                                     person="app:portal")
    await http.post("notify", f"/v1/people/{me.person_id}/messages", portal_app, {
        "kind": "sign_in_code", "values": {"code": "000000", "minutes": "10"}}, status=201)
    await expect(badge).not_to_have_text(before, timeout=15_000)  # live, no reload
    await v.page.get_by_role("button", name="全部标为已读").click()
    await v.page.wait_for_url(re.compile(r"done=read$"))
    await expect(badge).to_have_text("", timeout=15_000)

    await v.page.get_by_role("link", name="通知设置").first.click()
    await v.check("preferences")
    await v.page.get_by_label("推送地址 (webhook, 选填)").fill("not a url")
    await v.page.get_by_role("button", name="保存推送与免打扰").click()
    await expect(v.page.locator("#webhook_url-error")).to_be_visible()
    assert await v.page.get_by_label("推送地址 (webhook, 选填)").get_attribute("aria-invalid") == "true"
    await v.check("preferences-error")


async def test_the_development_sign_in_lists_demo_people_by_compound_and_role(
    portal: Portal, visitors: Any
) -> None:
    v: Visitor = await visitors()
    await v.open("/dev/sign-in", "dev-sign-in")
    seen: set[str] = set()
    text = ""
    for _ in range(100):  # compounds come a few per page, in id order, among other tests' ones
        seen |= set(await v.page.get_by_role("heading", level=2).all_inner_texts())
        text += await v.page.inner_text("main")
        more = v.page.get_by_role("link", name="更多小区")
        if not await more.count():
            break
        await more.click()
        await v.check()
    assert {"阳光花园", "南山归侨安置小区", "阳光花园城", "三盛四季公园"} <= seen
    assert "党支部书记" in text and "业主 · 1号楼" in text  # people by role and by unit
