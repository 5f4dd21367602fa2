"""通知设置 in the browser: a resident turns on email with a daily digest for the kinds they
choose, and SMS; a refused address keeps what was chosen and saves nothing; saving the webhook
and quiet hours keeps the kinds set before (notify's PUT replaces what it is not sent); the
table says where each kind goes; a channel is closed again."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

from tests.e2e.conftest import Http
from tests.portal.conftest import Portal, Resident, Visitor, demo_compound, dev_sign_in, owners


def _mine(http: Http, me: Resident) -> str:
    return http.platform.token(roles=["owner", "resident"], compounds=[me.compound_id],
                               person=me.person_id)


async def test_a_resident_chooses_email_with_a_digest_and_sms_for_some_kinds(
    portal: Portal, http: Http, visitors: Any
) -> None:
    cid = await demo_compound(http, "三盛四季公园")
    [me] = await owners(http, cid, 1, skip=2)
    token = _mine(http, me)
    await http.call("PUT", "notify", "/v1/me/preferences", token,
                    json={"kinds": ["vote_opened", "announcement"]})
    v: Visitor = await visitors()
    await dev_sign_in(v, me, then="/preferences")
    page, email = v.page, v.page.locator("#email")
    await v.check("preferences-channels")

    # a refused address: said next to it, the kinds chosen stay chosen, nothing is saved
    await email.get_by_label("邮箱地址").fill("不是邮箱")
    await email.get_by_text("全部类型 (展开可选择类型)").click()
    await email.get_by_label("表决开始").check()
    await email.get_by_label("费用分摊账单").check()
    await email.get_by_role("button", name="保存邮件通知").click()
    await expect(page.locator("#email_address-error")).to_contain_text("邮箱地址格式不正确")
    assert await email.get_by_label("邮箱地址").get_attribute("aria-invalid") == "true"
    assert await email.get_by_label("表决开始").is_checked()
    assert await email.get_by_label("费用分摊账单").is_checked()
    assert not await email.get_by_label("问题已解决").is_checked()
    await expect(email.locator("summary")).to_have_text("只收: 表决开始、费用分摊账单 (展开可选择类型)")
    await v.check("preferences-channels-refused")
    assert (await http.get("notify", "/v1/me/channels", token))["items"] == []

    # corrected, with a digest at 08:00: saved as chosen
    await email.get_by_label("邮箱地址").fill("wang.ye@example.com")
    await email.get_by_label("送达方式").select_option(label="每日摘要, 每天 08:00 发送")
    await email.get_by_role("button", name="保存邮件通知").click()
    await expect(page.get_by_role("status")).to_have_text("邮件通知已保存。")
    [saved] = (await http.get("notify", "/v1/me/channels", token))["items"]
    assert (saved["channel"], saved["address"], saved["digest_hour"]) == (
        "email", "wang.ye@example.com", 8)
    assert sorted(saved["kinds"]) == ["bills_issued", "vote_opened"]
    assert await email.get_by_label("送达方式").input_value() == "8"

    # SMS without kinds: only the important ones, as the page says
    sms = page.locator("#sms")
    await sms.get_by_label("手机号").fill("13900001234")
    await sms.get_by_role("button", name="保存短信通知").click()
    await expect(page.get_by_role("status")).to_have_text("短信通知已保存。")

    # the webhook form saved with new quiet hours keeps the kinds set through the API
    await page.get_by_label("免打扰开始").fill("22:00")
    await page.get_by_label("免打扰结束").fill("07:00")
    await page.get_by_role("button", name="保存推送与免打扰").click()
    await expect(page.get_by_role("status")).to_have_text("已保存。")
    prefs = await http.get("notify", "/v1/me/preferences", token)
    assert sorted(prefs["kinds"]) == ["announcement", "vote_opened"]
    assert (prefs["quiet_start"], prefs["quiet_end"]) == ("22:00", "07:00")

    # where each kind goes, as notify reckons it from these choices
    await page.get_by_text("按以上设置, 每类通知经哪些渠道、何时送达").click()
    bills = page.get_by_role("row", name="费用分摊账单")
    await expect(bills.locator("td").nth(2)).to_have_text("每日摘要")
    resolved = page.get_by_role("row", name="问题已解决")
    await expect(resolved.locator("td").nth(2)).to_have_text("—")
    await v.check("preferences-matrix")

    await email.get_by_role("button", name="关闭邮件通知").click()
    await expect(page.get_by_role("status")).to_have_text("邮件通知已关闭。")
    left = (await http.get("notify", "/v1/me/channels", token))["items"]
    assert [c["channel"] for c in left] == ["sms"]


async def test_a_digest_hour_the_page_does_not_offer_is_refused_next_to_it_and_nothing_saved(
    portal: Portal, http: Http, visitors: Any
) -> None:
    """The digest is a select of 0–23; a form sent otherwise ("²", which isdigit() passes and
    int() refuses, or 5,000 nines, past int()'s digits) answered a 500. notify's refusal is
    said next to the field now, and no channel is opened."""
    cid = await demo_compound(http, "三盛四季公园")
    [me] = await owners(http, cid, 1, skip=3)
    token = _mine(http, me)
    v: Visitor = await visitors()
    await dev_sign_in(v, me, then="/preferences")
    csrf = await v.page.locator('input[name="csrf"]').first.get_attribute("value")
    for digest in ("²", "9" * 5000, "-1", "早上"):
        answer = await v.page.request.post(f"{portal.url}/preferences/channels/email", form={
            "csrf": csrf or "", "email_address": "wang.ye@example.com", "email_digest": digest},
            max_redirects=0)
        text = await answer.text()
        assert answer.status == 422, (digest[:9], answer.status, text[:300])
        tag, _, said = text.split('id="email_digest-error"')[1].split("</p>")[0].partition(">")
        assert "hidden" not in tag and re.search("[\u4e00-\u9fff]", said), (digest[:9], said)
    assert (await http.get("notify", "/v1/me/channels", token))["items"] == []
