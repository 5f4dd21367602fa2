"""A resident orders from the volunteer menu (按需点单) in the browser, follows the order and
rates the service once the volunteer has done it."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

from tests.e2e.conftest import Http
from tests.portal.conftest import Portal, Resident, Visitor, demo_compound, dev_sign_in, owners, unique


async def menu_item(http: Http, cid: str, title: str) -> str:
    staff = http.platform.token(roles=["community"], compounds=[cid])
    item = await http.post("volunteers", f"/v1/compounds/{cid}/service-menu", staff, {
        "title": title, "skill": "appliance_repair", "duration_minutes": 60,
        "capacity_per_week": 10, "description": "电视、冰箱、洗衣机小毛病"}, status=201)
    return str(item["id"])


async def serve_order(http: Http, cid: str, order_id: str, volunteer: Resident) -> None:
    """A verified volunteer takes the order and does the job (their own app, not this test)."""
    staff = http.platform.token(roles=["community"], compounds=[cid])
    v = await http.post("volunteers", f"/v1/compounds/{cid}/volunteers", staff, {
        "skills": ["appliance_repair"], "person_id": volunteer.person_id}, status=201)
    assert v["status"] == "verified"  # registered by the community: verified at once
    me = http.platform.token(roles=["resident", "volunteer"], compounds=[cid],
                             person=volunteer.person_id)
    o = f"/v1/compounds/{cid}/volunteer-orders/{order_id}"
    await http.post("volunteers", f"{o}/accept", me)
    await http.post("volunteers", f"{o}/start", me)
    await http.post("volunteers", f"{o}/complete", me, {"minutes": 45, "notes": "更换了电源板"})


async def test_a_resident_orders_a_volunteer_service_follows_it_and_rates_it(
    portal: Portal, http: Http, visitors: Any
) -> None:
    cid = await demo_compound(http, "阳光花园城")
    me, volunteer = await owners(http, cid, 2, skip=6)
    title = unique("上门修理电视机")
    await menu_item(http, cid, title)
    v: Visitor = await visitors()
    await dev_sign_in(v, me, then=f"/c/{cid}/menu")
    await v.check("menu")
    await v.page.get_by_role("link", name=f"点单: {title}").click()
    await v.check("order-new")
    await v.page.get_by_label("需要说明的情况 (选填)").fill("电视没有图像, 有声音")
    await v.page.get_by_role("button", name="确认点单").click()
    await v.page.wait_for_url(re.compile(r"/orders/[0-9a-f-]{36}\?done=ordered$"))
    await v.check("order")
    main = await v.page.inner_text("main")
    assert "已下单" in main and "电视没有图像" in main
    assert (await v.page.inner_text(".timeline")).startswith("下单")
    order_id = v.page.url.rsplit("/", 1)[1].split("?")[0]

    await v.page.get_by_role("link", name="返回我的订单").click()
    await v.check("orders")
    await serve_order(http, cid, order_id, volunteer)
    await v.page.goto(f"{portal.url}/c/{cid}/orders/{order_id}")
    await v.check("order-completed")
    await v.page.get_by_label("评分 (1–5 分)").select_option("5")
    await v.page.get_by_role("button", name="提交评价").click()
    await v.page.wait_for_url(re.compile(r"done=rate$"))
    await expect(v.page.get_by_text("你的评价: 5 分")).to_be_visible()
