"""Cost sharing at the desk: the property company registers the water pump's electricity for one
building, imports the meter readings (a bad line is named, nothing written), compares two plans
unit by unit; the party branch adopts one; the property company issues the bills."""

from __future__ import annotations

from tests.e2e.conftest import Http
from tests.portal.conftest import Portal, demo_compound, dev_sign_in, unique
from tests.portal.desk_fixtures import Browsers, member_of, staff_browsers, submit  # noqa: F401


async def test_a_plan_comparison_is_adopted_and_bills_issued(
    portal: Portal, http: Http, staff_browsers: Browsers  # noqa: F811
) -> None:
    cid = await demo_compound(http)
    staff = http.platform.token(roles=["community"], compounds=[cid])
    [building] = (await http.get("directory", f"/v1/compounds/{cid}/buildings", staff))["items"][:1]
    units = [u for u in (await http.get("directory", f"/v1/compounds/{cid}/units?limit=100",
                                        staff))["items"] if u["building_id"] == building["id"]]
    assert len(units) >= 2
    manager = await member_of(http, cid, "property")
    s = await staff_browsers()
    await dev_sign_in(s, manager, then=f"/desk/c/{cid}/costs")
    page = s.page
    await s.check("costs")
    name = unique("二次供水水泵电费")
    await page.get_by_label("费用名称").fill(name)
    await page.get_by_label("计量单位 (按用量分摊时, 如 吨、度)").fill("吨")
    await page.get_by_label(building["name"], exact=True).check()
    await submit(s, "登记", "create")
    cost_url = page.url.split("?")[0]

    rows = [f"{building['name']},{u['number']},2026-07,{(n % 4) * 3 + 2}" for n, u in enumerate(units)]
    bad = ["building,number,period,usage", rows[0], f"{building['name']},{units[1]['number']},2026-07,很多"]
    await page.get_by_label("CSV 文件").set_input_files(files=[{
        "name": "bad.csv", "mimeType": "text/csv", "buffer": "\n".join(bad).encode()}])
    async with page.expect_navigation():
        await page.get_by_role("button", name="导入").click()
    assert "第 3 行" in await page.get_by_role("alert").inner_text()
    await page.get_by_label("CSV 文件").set_input_files(files=[{
        "name": "pump.csv", "mimeType": "text/csv",
        "buffer": "\n".join(["building,number,period,usage", *rows]).encode()}])
    await submit(s, "导入", "readings")

    for method in ("按用量分摊", "面积、用量各半"):
        await page.get_by_label("分摊方式").select_option(label=method)
        await submit(s, "添加方案", "plan")
    assert await page.get_by_role("button", name="采纳方案 按用量分摊").count() == 0  # not the property's
    await page.get_by_label("总金额 (元)").first.fill("1234.56")
    await page.get_by_label("读数期间 (如 2026-07)").fill("2026-07")
    await page.get_by_label("基准方案").select_option("按用量分摊")
    async with page.expect_navigation():
        await page.get_by_role("button", name="逐户对比").click()
    await s.check("cost-compare")
    table = page.locator("table.compare")
    assert await table.locator("tbody tr").count() == len(units)
    assert await table.locator("thead th").all_inner_texts() == [
        "房屋", "按用量分摊", "面积、用量各半", "差额"]
    footer = await table.locator("tfoot").inner_text()
    assert footer.count("1,234.56") == 2  # both plans split the whole bill, to the fen

    branch = await member_of(http, cid, "party_branch")
    b = await staff_browsers()
    await dev_sign_in(b, branch, then=cost_url.removeprefix(portal.url))
    async with b.page.expect_navigation():
        await b.page.get_by_role("button", name="采纳方案 面积、用量各半").click()
    assert b.page.url.endswith("?ok=adopt")

    await page.goto(cost_url)
    await page.get_by_label("期间 (如 2026-07)", exact=True).fill("2026-07")
    await page.get_by_label("总金额 (元)").last.fill("1234.56")
    await submit(s, "按采纳方案出具", "bills")
    await page.get_by_role("link", name="2026-07").click()
    await s.check("cost-bills")
    bill = page.locator("#bill")
    assert await bill.locator("tbody tr").count() == len(units)
    assert "合计 1,234.56 元" in await bill.inner_text()
