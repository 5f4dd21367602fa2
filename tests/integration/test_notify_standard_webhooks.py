"""Webhooks for apps follow Standard Webhooks: the receiver checks them with the
`standardwebhooks` verifier, a retry keeps its webhook-id (so receivers drop replays), and a
410 Gone switches the person's webhook off."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from standardwebhooks import Webhook

from linli.http import POOL
from services.notify.sender import GONE
from tests.conftest import TokenFactory, assert_problem
from tests.integration.test_notify_delivery import comment_on_new_issue, my_deliveries
from tests.integration.test_notify_support import (
    NotifyFactory,
    People,
    Person,
    Publisher,
    Receiver,
    eventually,
    inbox,
    nats_js,
    ok,
    publisher,
    receiver,
    start_notify,
)

__all__ = ["nats_js", "publisher", "receiver", "start_notify"]  # fixtures
WHSEC = "whsec_" + base64.b64encode(b"linli-standard-webhooks-key-32b!").decode()


@pytest.fixture
def people(token: TokenFactory) -> People:
    return People(token)


async def test_a_retried_delivery_verifies_with_the_library_and_keeps_its_id(
    people: People, publisher: Publisher, start_notify: NotifyFactory, receiver: Receiver,
) -> None:
    receiver.status = 503
    notify = await start_notify()
    cid = str(uuid.uuid4())
    alice = people(cid)
    await ok(await notify.put("/v1/me/preferences", headers=alice.headers, json={
        "webhook_url": receiver.url, "webhook_secret": WHSEC, "kinds": ["issue_commented"]}))
    await comment_on_new_issue(publisher, cid, alice.id, title="水管漏水")
    await eventually(lambda: _received(receiver, 1))
    receiver.status = 200
    [sent] = await eventually(lambda: my_deliveries(notify, alice, 1, "sent"))
    assert sent["attempts"] >= 2
    async with notify.app[POOL].acquire() as conn:  # the secret is stored sealed
        stored = await conn.fetchval("SELECT webhook_secret FROM preferences WHERE person_id = $1",
                                     alice.id)
    assert stored.startswith("enc1:") and WHSEC not in stored
    verifier = Webhook(WHSEC)
    ids = set()
    for headers, body in receiver.received:
        payload = verifier.verify(body, headers)  # raises unless the signature is right
        assert payload["title"] == "问题“水管漏水”有新回复"
        ids.add(headers["webhook-id"])
    assert len(ids) == 1  # the same message id on every attempt
    headers, body = receiver.received[-1]
    tampered = body.replace("水管".encode(), "煤气".encode())
    with pytest.raises(Exception, match="signature"):
        verifier.verify(tampered, headers)
    wrong = Webhook("whsec_" + base64.b64encode(b"another-key-of-thirty-two-bytes!").decode())
    with pytest.raises(Exception, match="signature"):
        wrong.verify(body, headers)


async def _received(receiver: Receiver, n: int) -> bool:
    return len(receiver.received) >= n


async def test_a_free_text_secret_signs_with_its_bytes(
    people: People, publisher: Publisher, start_notify: NotifyFactory, receiver: Receiver,
) -> None:
    notify = await start_notify()
    cid = str(uuid.uuid4())
    alice = people(cid)
    secret = "im-bot-shared-secret-0123"
    await ok(await notify.put("/v1/me/preferences", headers=alice.headers, json={
        "webhook_url": receiver.url, "webhook_secret": secret, "kinds": ["issue_commented"]}))
    await comment_on_new_issue(publisher, cid, alice.id)
    await eventually(lambda: my_deliveries(notify, alice, 1, "sent"))
    [(headers, body)] = receiver.received
    assert Webhook(secret.encode()).verify(body, headers)["person_id"] == alice.id
    assert json.loads(body)["kind"] == "issue_commented"


async def test_410_gone_switches_the_webhook_off(
    people: People, publisher: Publisher, start_notify: NotifyFactory, receiver: Receiver,
) -> None:
    receiver.status = 410
    notify = await start_notify()
    cid = str(uuid.uuid4())
    alice = people(cid)
    await ok(await notify.put("/v1/me/preferences", headers=alice.headers, json={
        "webhook_url": receiver.url, "webhook_secret": WHSEC}))
    await comment_on_new_issue(publisher, cid, alice.id)
    failed = await eventually(lambda: my_deliveries(notify, alice, 1, "failed"))
    assert {d["last_error"] for d in failed} <= {GONE, "接收方表示该地址已停用 (410)"}
    await eventually(lambda: _inbox_has(notify, alice, 2))
    prefs = await ok(await notify.get("/v1/me/preferences", headers=alice.headers))
    assert prefs["webhook_url"] is None and prefs["webhook_signed"] is False
    before = await eventually(lambda: _all_failed(notify, alice))  # none left to try
    assert len(receiver.received) <= 2
    await comment_on_new_issue(publisher, cid, alice.id, title="第二件")
    await eventually(lambda: _inbox_has(notify, alice, 4))
    after = await ok(await notify.get("/v1/me/deliveries", headers=alice.headers))
    assert len(after["items"]) == len(before)  # nothing new for the retired address


async def _all_failed(notify: Any, who: Person) -> Any:
    page = await ok(await notify.get("/v1/me/deliveries", headers=who.headers))
    return page["items"] if all(d["status"] == "failed" for d in page["items"]) else None


async def _inbox_has(notify: Any, who: Person, n: int) -> bool:
    return len(await inbox(notify, who)) >= n


async def test_a_whsec_secret_must_be_base64_of_16_bytes(
    people: People, start_notify: NotifyFactory, receiver: Receiver,
) -> None:
    notify = await start_notify()
    alice = people(str(uuid.uuid4()))
    for bad in ("whsec_not*base64*at*all!!", "whsec_" + base64.b64encode(b"short").decode() + "AAAAAAAA"):
        await assert_problem(await notify.put("/v1/me/preferences", headers=alice.headers, json={
            "webhook_url": receiver.url, "webhook_secret": bad}), 422, "validation-error")
    prefs = await ok(await notify.get("/v1/me/preferences", headers=alice.headers))
    assert prefs["webhook_url"] is None
