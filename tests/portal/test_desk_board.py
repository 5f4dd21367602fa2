"""The community's desk beyond the queues: a notice posted to the board (the residents' home
shows it), a template edited (a placeholder its kind lacks is refused in place), statistics
drawn as SVG with the numbers as CSV, and the volunteer service with its ledger CSV."""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from playwright.async_api import expect

from tests.e2e.conftest import Http, until
from tests.portal.conftest import (
    Portal,
    Resident,
    Visitor,
    demo_compound,
    dev_sign_in,
    owners,
    unique,
)
from tests.portal.desk_fixtures import Browsers, member_of, staff_browsers, submit  # noqa: F401
from tests.portal.test_portal_issues import report_by_api


@contextlib.asynccontextmanager
async def retired_webhook() -> AsyncIterator[tuple[str, list[str]]]:
    """A receiver on this machine that answers every push 410 Gone (the address is retired),
    as a person's IM bot or system does once it was switched off; yields its URL and the kinds
    of the pushes it was sent."""
    kinds: list[str] = []

    async def gone(request: web.Request) -> web.Response:
        kinds.append(request.headers.get("X-Linli-Kind", ""))
        return web.Response(status=410)

    app = web.Application()
    app.router.add_post("/hook", gone)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/hook", kinds
    finally:
        await runner.cleanup()


async def failed_push(http: Http, who: Resident, issue_id: str) -> None:
    """The person's webhook at a retired address, then a change of their issue's status: notify
    pushes it, the receiver answers 410, and the delivery ends failed (and the webhook off)."""
    cid = who.compound_id
    mine = http.platform.token(roles=["resident", "owner"], compounds=[cid], person=who.person_id)
    staff = http.platform.token(roles=["property"], compounds=[cid])
    async with retired_webhook() as (url, pushed):
        await http.call("PUT", "notify", "/v1/me/preferences", mine,
                        json={"webhook_url": url, "kinds": ["issue_status_changed"]})
        await http.post("issues", f"/v1/compounds/{cid}/issues/{issue_id}/status", staff,
                        {"to": "accepted", "template": "received"})

        async def failed() -> list[Any]:
            log = await http.get("notify", f"/v1/compounds/{cid}/deliveries?status=failed", staff)
            return [d for d in log["items"] if d["person_id"] == who.person_id
                    and d["kind"] == "issue_status_changed" and d["channel"] == "webhook"
                    and "410" in (d["last_error"] or "")]  # failed by the receiver's answer

        await until("the push to the retired webhook ends failed", failed)
        assert pushed == ["issue_status_changed"]  # sent once: a 410 is not tried again


async def test_the_community_posts_a_notice_edits_a_template_and_reads_the_statistics(
    portal: Portal, http: Http, staff_browsers: Browsers, visitors: object  # noqa: F811
) -> None:
    cid = await demo_compound(http)
    [resident] = await owners(http, cid, 1, skip=3)
    issue_id = await report_by_api(http, resident, unique("2号楼门禁坏了"), anonymous=False)
    worker = await member_of(http, cid, "community")
    await failed_push(http, resident, issue_id)
    s = await staff_browsers()
    await dev_sign_in(s, worker, then=f"/desk/c/{cid}/notices?status=failed")
    page = s.page
    await s.check("notices")
    log = await page.locator("section", has_text="推送记录").inner_text()
    assert "问题状态变化\t推送地址 (webhook)\t失败" in log  # what and where, as a person says it
    assert "issue_status_changed" not in log and "\twebhook\t" not in log and "failed" not in log
    title = unique("本周六上午电梯年检")
    await page.get_by_label("标题", exact=True).first.fill(title)
    async with page.expect_navigation():  # no text yet: refused, and the title is still there
        await page.get_by_role("button", name="发布", exact=True).click()
    assert await page.get_by_role("alert").count() == 1
    assert await page.get_by_label("标题", exact=True).first.input_value() == title
    await page.get_by_label("正文", exact=True).first.fill("9:00–11:00 各楼电梯暂停使用, 请错峰出行。")
    await submit(s, "发布", "post")
    assert title in await page.locator("section", has_text="公告栏").first.inner_text()

    kind_form = page.locator("article.item").first
    await kind_form.locator("summary").click()
    await kind_form.get_by_label("正文").fill("{title} 的 {no_such_thing}")
    async with page.expect_navigation():
        await kind_form.get_by_role("button").first.click()
    alert = await page.get_by_role("alert").inner_text()
    assert "{no_such_thing}" in alert
    assert await kind_form.get_by_label("正文").is_visible()  # the refused form stays open
    assert await kind_form.get_by_label("正文").input_value() == "{title} 的 {no_such_thing}"
    here = page.get_by_role("navigation", name="工作台栏目").locator('[aria-current="page"]')
    await expect(here).to_have_text("通知公告")  # shown at the template's address
    await kind_form.get_by_label("正文").fill("{title}: {note}")
    await submit(s, "保存模板: 问题状态变化", "template_save")
    assert "本小区模板" in await page.locator("article.item").first.inner_text()

    v: Visitor = await visitors()  # type: ignore[operator]
    await dev_sign_in(v, resident, then=f"/c/{cid}")
    assert title in await v.page.inner_text("main")

    await s.open(f"/desk/c/{cid}/stats", "stats")
    assert await page.locator("ul.chart").count() >= 2
    lift = page.locator('ul.chart[aria-label="按类别的问题数"] li', has_text="电梯故障")
    assert re.fullmatch(r"电梯故障\s*\d+ 件", (await lift.inner_text()).strip())
    # its words in the page's own size, not shrunk with the card (an SVG's were a few pixels)
    size = await lift.locator(".label").evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= 14, size
    download = await page.request.get(f"{portal.url}/desk/c/{cid}/stats.csv")
    assert download.ok and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO((await download.text()).lstrip("\ufeff"))))
    assert rows[0] == ["section", "item", "value"]
    assert any(r[0] == "issues" and r[1] == "total" and int(r[2]) >= 1 for r in rows)

    await s.open(f"/desk/c/{cid}/volunteers", "volunteers")
    assert "服务台账" in await page.inner_text("main")
    ledger = await page.request.get(f"{portal.url}/desk/c/{cid}/volunteers/ledger.csv")
    assert ledger.ok and ledger.headers["content-type"].startswith("text/csv")

    # a resident has no desk, and the desk's actions are refused to them by the services too
    answer = await v.page.request.get(f"{portal.url}/desk/c/{cid}/stats")
    assert answer.status == 404
