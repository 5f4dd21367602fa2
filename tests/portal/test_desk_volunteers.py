"""A volunteer works an order from the desk: the open order of their skill to accept, start and
complete with the time spent; the community sees it in the service ledger and its CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

from tests.e2e.conftest import Http
from tests.portal.conftest import Portal, demo_compound, dev_sign_in, owners, unique
from tests.portal.desk_fixtures import Browsers, member_of, staff_browsers, submit  # noqa: F401
from tests.portal.test_portal_volunteers import menu_item


async def test_a_volunteer_accepts_starts_and_completes_an_order_and_the_ledger_counts_it(
    portal: Portal, http: Http, staff_browsers: Browsers  # noqa: F811
) -> None:
    cid = await demo_compound(http)
    [resident] = await owners(http, cid, 1, skip=9)
    title = unique("上门疏通下水道")
    item = await menu_item(http, cid, title)
    mine = http.platform.token(roles=["resident", "owner"], compounds=[cid], person=resident.person_id)
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    await http.post("volunteers", f"/v1/compounds/{cid}/volunteer-orders", mine, {
        "item_id": item, "unit_id": resident.unit_id, "window_start": start.isoformat(),
        "window_end": (start + dt.timedelta(hours=2)).isoformat(), "note": "厨房下水道堵了"},
        status=201)
    volunteer = await member_of(http, cid, "volunteer_team")
    staff = http.platform.token(roles=["community"], compounds=[cid])
    await http.post("volunteers", f"/v1/compounds/{cid}/volunteers", staff, {
        "skills": ["appliance_repair"], "person_id": volunteer.person_id}, status=201)

    # the demo compound's ledger is shared with other tests: this order adds one service to it
    before = await http.get("volunteers", f"/v1/compounds/{cid}/service-ledger/stats", staff)

    s = await staff_browsers()
    await dev_sign_in(s, volunteer, then=f"/desk/c/{cid}/volunteers")
    page = s.page
    await s.check("volunteer-orders")
    await submit(s, f"接单: {title}", "accept")
    await submit(s, "开始服务", "start")
    await page.get_by_label("时长 (分钟)").fill("50")
    await page.get_by_label("服务情况").fill("疏通完毕")
    await submit(s, "完成", "complete")
    assert await page.get_by_role("link", name="导出台账 CSV").count() == 0  # staff only

    c = await staff_browsers()
    await dev_sign_in(c, await member_of(http, cid, "community"), then=f"/desk/c/{cid}/volunteers")
    await c.check("volunteers-ledger")
    shown = await c.page.locator("section", has_text="服务台账").first.inner_text()
    assert f"共 {before['services'] + 1} 次服务" in shown
    ledger = await c.page.request.get(f"{portal.url}/desk/c/{cid}/volunteers/ledger.csv")
    assert ledger.ok
    [line] = [row for row in csv.reader(io.StringIO(await ledger.text())) if title in row]
    assert line[5:7] == ["50", "0.83"]  # 时长(分钟), 时长(小时)
