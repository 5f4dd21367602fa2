"""Daily digests: non-critical notifications wait for the person's digest hour and go out in
one email; critical ones go at once; quiet hours hold the digest; one digest per person,
channel and day however many replicas run the job at the same moment."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import replace
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from linli.http import POOL
from services.notify.digests import digest_once
from services.notify.rules import CST
from tests.conftest import TokenFactory
from tests.integration.test_notify_delivery import comment_on_new_issue
from tests.integration.test_notify_email import Smtp, certificate, smtp
from tests.integration.test_notify_sms import remind
from tests.integration.test_notify_support import (
    FAST,
    NotifyFactory,
    People,
    Person,
    Publisher,
    eventually,
    inbox,
    nats_js,
    ok,
    publisher,
    start_notify,
)

__all__ = ["certificate", "nats_js", "publisher", "smtp", "start_notify"]  # fixtures
TODAY = dt.datetime.now(CST).date()


def at(hour: int, minute: int = 0, day: dt.date = TODAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CST)


@pytest.fixture
def people(token: TokenFactory) -> People:
    return People(token)


async def _count(notify: TestClient, who: Person, n: int) -> bool:
    return len(await inbox(notify, who)) >= n


async def _deliveries(notify: TestClient, who: Person) -> list[dict[str, Any]]:
    page = await ok(await notify.get("/v1/me/deliveries?channel=email", headers=who.headers))
    return list(page["items"])


async def test_one_digest_a_day_with_the_waiting_notifications_exactly_once(
    people: People, publisher: Publisher, start_notify: NotifyFactory, smtp: Smtp,
) -> None:
    config = replace(FAST, mail=smtp.config, digest_seconds=3600)  # the job runs only when called
    a = await start_notify(sender=config)
    b = await start_notify(sender=config, replica_of=a)
    cid = str(uuid.uuid4())
    alice = people(cid)
    await ok(await a.put("/v1/me/channels/email", headers=alice.headers, json={
        "address": "alice@example.cn", "digest_hour": 8}))
    await comment_on_new_issue(publisher, cid, alice.id, title="垃圾清运")  # 2 non-critical
    await remind(publisher, cid, alice.id)  # a vote deadline: critical, at once
    await eventually(lambda: _count(a, alice, 3))
    [now_mail] = await eventually(lambda: _mails(smtp, 1))
    assert str(now_mail["Subject"]) == "议案“顶楼隔热改造”：表决即将截止，您尚未投票"
    assert await digest_once(a.app[POOL], now=at(7, 59)) == 0  # not yet its hour
    # two replicas and several passes each at 08:00: one digest
    made = await asyncio.gather(*(digest_once(n.app[POOL], now=at(8)) for n in (a, b) * 3))
    assert sum(made) == 1
    mails = await eventually(lambda: _mails(smtp, 2))
    digest = mails[1]
    assert str(digest["Subject"]) == f"{TODAY.month}月{TODAY.day}日通知摘要: 2 条"
    text = digest.get_body(("plain",)).get_content()
    assert "· 问题“垃圾清运”有新回复" in text and "· 您反映的问题“垃圾清运”已受理" in text
    assert await digest_once(b.app[POOL], now=at(20)) == 0  # nothing new, and one a day
    kinds = sorted(d["kind"] for d in await _deliveries(a, alice))
    assert kinds == ["digest", "proposal_reminder"]


async def _mails(smtp: Smtp, n: int) -> Any:
    if len(smtp.mailbox.received) < n:
        return None
    return [message_from_bytes(raw, policy=policy.default) for _, raw in smtp.mailbox.received]


async def test_quiet_hours_hold_the_digest_until_they_end(
    people: People, publisher: Publisher, start_notify: NotifyFactory, smtp: Smtp,
) -> None:
    notify = await start_notify(sender=replace(FAST, mail=smtp.config, digest_seconds=3600))
    cid = str(uuid.uuid4())
    bob = people(cid)
    await ok(await notify.put("/v1/me/preferences", headers=bob.headers, json={
        "quiet_start": "07:30", "quiet_end": "09:30"}))
    await ok(await notify.put("/v1/me/channels/email", headers=bob.headers, json={
        "address": "bob@example.cn", "digest_hour": 8}))
    await comment_on_new_issue(publisher, cid, bob.id)
    await eventually(lambda: _count(notify, bob, 2))
    tomorrow = TODAY + dt.timedelta(days=1)  # so that the quiet hours still lie ahead
    assert await digest_once(notify.app[POOL], now=at(8, 5, tomorrow)) == 1
    [held] = await _deliveries(notify, bob)
    assert held["kind"] == "digest" and held["status"] == "pending"
    assert dt.datetime.fromisoformat(held["next_attempt_at"]) == at(9, 30, tomorrow)
    assert smtp.mailbox.received == []
