"""Staff post a notice to their compound's board by hand (the desk's 通知公告): framed by the
compound's `announcement` template, pushed to the board's webhook followers, refused to residents
and to staff of another compound, and a bad post writes nothing."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.conftest import TokenFactory, assert_problem
from tests.integration.test_notify_support import (
    NotifyFactory,
    People,
    Receiver,
    eventually,
    nats_js,
    notices,
    ok,
    publisher,
    receiver,
    start_notify,
)

__all__ = ["nats_js", "publisher", "receiver", "start_notify"]  # fixtures


@pytest.fixture
def people(token: TokenFactory) -> People:
    return People(token)


async def test_staff_post_a_notice_framed_by_the_compound_template_and_pushed_to_followers(
    people: People, start_notify: NotifyFactory, receiver: Receiver,
) -> None:
    notify = await start_notify()
    cid = str(uuid.uuid4())
    branch, resident, bot = people(cid, "party_branch"), people(cid), people(cid, "property")
    await ok(await notify.put("/v1/me/preferences", headers=bot.headers,
                              json={"webhook_url": receiver.url, "kinds": ["announcement"]}))
    template = await ok(await notify.put(
        f"/v1/compounds/{cid}/notification-templates/announcement", headers=branch.headers,
        json={"title": "【阳光花园】{title}", "body": "{body}\n—— 阳光花园党支部"}))
    assert template["placeholders"] == ["body", "title"]
    url = f"/v1/compounds/{cid}/notices"

    await assert_problem(await notify.post(url, headers=resident.headers,
                                           json={"title": "停水", "body": "明天停水"}), 403, "forbidden")
    other = people(str(uuid.uuid4()), "party_branch")
    await assert_problem(await notify.post(url, headers=other.headers,
                                           json={"title": "停水", "body": "明天停水"}), 403, "forbidden")
    await assert_problem(await notify.post(url, headers=branch.headers,
                                           json={"title": " ", "body": "明天停水"}), 422,
                         "validation-error")
    assert await notices(notify, cid, resident) == []  # nothing half written

    posted = await ok(await notify.post(url, headers=branch.headers, json={
        "title": "明日 9–12 时停水", "body": "二次供水水箱清洗, 请提前储水。"}), 201)
    assert (posted["kind"], posted["kind_label"]) == ("announcement", "社区公告")
    assert posted["title"] == "【阳光花园】明日 9–12 时停水"
    assert posted["body"] == "二次供水水箱清洗, 请提前储水。\n—— 阳光花园党支部"
    assert [n["id"] for n in await notices(notify, cid, resident)] == [posted["id"]]

    async def pushed_once() -> bool:
        return bool(receiver.received)
    await eventually(pushed_once)
    [(_, raw)] = receiver.received
    pushed = json.loads(raw)
    assert (pushed["title"], pushed["audience"], pushed["compound_id"]) == (
        posted["title"], "compound", cid)


async def test_a_notice_retried_with_its_idempotency_key_is_posted_once(
    people: People, start_notify: NotifyFactory,
) -> None:
    """The desk or a staff script retrying a post after a lost answer (the README's creating
    POSTs take `Idempotency-Key`): the first answer comes back, the board has one post, and the
    key with another text is refused."""
    notify = await start_notify()
    cid = str(uuid.uuid4())
    branch, resident = people(cid, "party_branch"), people(cid)
    url, key = f"/v1/compounds/{cid}/notices", {"Idempotency-Key": f"notice-{uuid.uuid4()}"}
    body = {"title": "明日 9–12 时停水", "body": "二次供水水箱清洗, 请提前储水。"}

    first = await notify.post(url, headers=branch.headers | key, json=body)
    again = await notify.post(url, headers=branch.headers | key, json=body)
    assert (first.status, again.status) == (201, 201)
    assert again.headers.get("Idempotent-Replayed") == "true"
    posted = await first.json()
    assert (await again.json())["id"] == posted["id"]
    assert [n["id"] for n in await notices(notify, cid, resident)] == [posted["id"]]

    await assert_problem(await notify.post(url, headers=branch.headers | key,
                                           json=body | {"body": "改为下午停水"}), 422,
                         "validation-error")
    assert [n["id"] for n in await notices(notify, cid, resident)] == [posted["id"]]
