"""The desk and the residents' pages on a phone (390 px) and in a council member's words: a
refused form names its own label, never the service's JSON field, and marks the field; the
menus show the current item without scrolling sideways; the push log's short cells are not
broken a character a line."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Http
from tests.portal.conftest import (
    Portal,
    Resident,
    Visitor,
    demo_compound,
    dev_sign_in,
    owners,
    screenshot,
    unique,
)
from tests.portal.desk_fixtures import _accept, member_of
from tests.portal.test_desk_board import failed_push
from tests.portal.test_portal_issues import report_by_api

# the current menu item's box against the viewport, and whether the menu scrolls sideways
CURRENT_IN_VIEW = """(name) => {
  const nav = document.querySelector(`nav[aria-label="${name}"]`);
  const here = nav.querySelector('[aria-current="page"]').getBoundingClientRect();
  const list = nav.querySelector("ul");
  return {left: here.left, right: here.right, top: here.top, bottom: here.bottom,
          width: window.innerWidth, height: window.innerHeight,
          sideways: list.scrollWidth > list.clientWidth};
}"""

# how many lines each cell of the push log's 状态 and 尝试 columns takes (headings included)
LINES_OF_SHORT_CELLS = """() => {
  const table = [...document.querySelectorAll("section")]
    .find(s => s.querySelector("h2")?.textContent === "推送记录").querySelector("table");
  const heads = [...table.querySelectorAll("thead th")].map(th => th.textContent.trim());
  const lines = [];
  for (const name of ["状态", "尝试"]) {
    const at = heads.indexOf(name);
    for (const row of table.querySelectorAll("tr")) {  // the heading and every row
      const range = document.createRange();
      range.selectNodeContents(row.cells[at]);
      const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      lines.push([name, row.cells[at].textContent.trim(), tops.size]);
    }
  }
  return {lines, right: table.getBoundingClientRect().right, width: window.innerWidth};
}"""


async def assert_current_in_view(v: Visitor, menu: str, item: str) -> None:
    box = await v.page.evaluate(CURRENT_IN_VIEW, menu)
    assert not box["sideways"], f"{menu} scrolls sideways on {v.page.url}"
    assert 0 <= box["left"] and box["right"] <= box["width"], (item, box)
    assert 0 <= box["top"] and box["bottom"] <= box["height"], (item, box)


async def desk_on_a_phone(http: Http, visitors: Any, then: str) -> tuple[str, Resident, Visitor]:
    """The community's worker of the first demo compound on a phone, at `then` of its desk."""
    cid = await demo_compound(http)
    worker = await member_of(http, cid, "community")
    s: Visitor = await visitors()
    s.page.on("dialog", _accept)  # the forms' confirmations
    await dev_sign_in(s, worker, then=f"/desk/c/{cid}{then}")
    [resident] = await owners(http, cid, 1, skip=5)
    return cid, resident, s


async def test_a_refused_desk_form_names_its_own_label_and_marks_the_field(
    portal: Portal, http: Http, visitors: Any
) -> None:
    cid, _, s = await desk_on_a_phone(http, visitors, "/notices")
    page = s.page
    # a notice without text: notify says "请求体字段校验失败: body: 至少 1 个字符"
    await page.get_by_label("标题", exact=True).first.fill(unique("停水通知"))
    async with page.expect_navigation():
        await page.get_by_role("button", name="发布", exact=True).click()
    alert = await page.get_by_role("alert").inner_text()
    assert alert.startswith("正文: ") and "body" not in alert and "请求体" not in alert, alert
    text = page.locator("#body")
    assert await text.get_attribute("aria-invalid") == "true"
    assert await text.get_attribute("aria-describedby") == "refused"
    await s.check("desk-notice-refused")

    # a meeting that ends before it starts: in the form's words (meetings would speak of time
    # zones), the end marked
    await s.open(f"/desk/c/{cid}/meetings")
    await page.get_by_label("会议名称").fill(unique("议事会例会"))
    await page.get_by_label("开始 (北京时间)").fill("2030-06-01T15:00")
    await page.get_by_label("结束 (北京时间)").fill("2030-06-01T14:00")
    async with page.expect_navigation():
        await page.get_by_role("button", name="召集会议", exact=True).click()
    alert = await page.get_by_role("alert").inner_text()
    assert alert == "结束时间须晚于开始时间", alert
    assert await page.locator("#ends_at").get_attribute("aria-invalid") == "true"
    await s.check("desk-meeting-refused")

    # a negative budget: meetings names budget_fen, the form says 预算 (元)
    await s.open(f"/desk/c/{cid}/proposals")
    await page.get_by_label("议案标题").fill(unique("更换单元门禁"))
    await page.get_by_label("议案内容").fill("更换 3 栋各单元的门禁。")
    await page.get_by_label("预算 (元, 选填)").fill("-5")
    async with page.expect_navigation():
        await page.get_by_role("button", name="提出议案 (草案)", exact=True).click()
    alert = await page.get_by_role("alert").inner_text()
    assert alert.startswith("预算: ") and "budget" not in alert, alert
    assert await page.locator("#budget").get_attribute("aria-invalid") == "true"
    await s.check("desk-proposal-refused")


async def test_on_a_phone_the_menus_show_the_current_item_without_scrolling(
    portal: Portal, http: Http, visitors: Any
) -> None:
    cid, resident, s = await desk_on_a_phone(http, visitors, "/notices")
    await assert_current_in_view(s, "工作台栏目", "通知公告")
    await s.open(f"/desk/c/{cid}/stats", "desk-stats")  # the last item but one
    await assert_current_in_view(s, "工作台栏目", "统计")
    r: Visitor = await visitors()
    await dev_sign_in(r, resident, then=f"/c/{cid}/bills")
    await r.check("resident-bills-menu")
    await assert_current_in_view(r, "主要栏目", "我的账单")  # the last item


async def test_on_a_phone_the_push_log_keeps_its_short_cells_on_one_line(
    portal: Portal, http: Http, visitors: Any
) -> None:
    cid, resident, s = await desk_on_a_phone(http, visitors, "/notices")
    await failed_push(http, resident, await report_by_api(http, resident, unique("路灯不亮"),
                                                          anonymous=False))
    await s.open(f"/desk/c/{cid}/notices?status=failed")
    await s.page.locator("section", has_text="推送记录").locator("table").scroll_into_view_if_needed()
    await screenshot(s.page, "desk-push-log")
    cells = await s.page.evaluate(LINES_OF_SHORT_CELLS)
    assert cells["lines"] and all(n == 1 for _, _, n in cells["lines"]), cells
    assert cells["right"] <= cells["width"], cells  # and the table is not wider than the phone
