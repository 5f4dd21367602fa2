"""SMS behind an adapter: the HTTP provider adapter against a local provider server, one
70-character segment, critical kinds by default (vote deadlines), a rate limit per phone
counted across replicas; the default log adapter sends nothing out."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from linli.db import transaction
from linli.http import POOL
from services.notify import channel_store
from services.notify.rules import SMS_LIMIT
from services.notify.sms import SmsConfig
from services.notify.transports import SMS_TOO_OFTEN
from tests.conftest import TokenFactory
from tests.integration.test_notify_delivery import comment_on_new_issue
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
from workflows import events as wf_events

__all__ = ["nats_js", "publisher", "start_notify"]  # fixtures
PHONE = "13800138000"


@pytest.fixture
def people(token: TokenFactory) -> People:
    return People(token)


@dataclass
class Provider:
    server: TestServer
    texts: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)

    @property
    def config(self) -> SmsConfig:
        return SmsConfig(provider="http", endpoint=str(self.server.make_url("/sms")),
                         token="provider-token", sign="幸福里", per_hour=2)


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    box: list[Provider] = []

    async def accept(request: web.Request) -> web.Response:
        box[0].tokens.append(request.headers.get("Authorization", ""))
        box[0].texts.append(await request.json())
        return web.json_response({"code": "OK"})

    app = web.Application()
    app.router.add_post("/sms", accept)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    box.append(Provider(server))
    yield box[0]
    await server.close()


async def remind(publisher: Publisher, cid: str, person: str) -> None:
    pid = str(uuid.uuid4())
    await publisher.emit(wf_events.PROPOSAL_REMINDER_DUE, wf_events.ReminderDue(
        workflow_id=f"proposal-{pid}", entity_id=pid, compound_id=cid, kind="vote_ending",
        audience="non_voters", deadline=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
        person_ids=[person], title="顶楼隔热改造"), subject=pid, compound_id=cid)


async def _sms(notify: TestClient, who: Person, n: int) -> Any:
    page = await ok(await notify.get("/v1/me/deliveries?channel=sms", headers=who.headers))
    done = [d for d in page["items"] if d["status"] != "pending"]
    return done if len(done) >= n else None


async def test_vote_deadlines_reach_the_phone_within_one_segment_and_the_rate_limit(
    people: People, publisher: Publisher, start_notify: NotifyFactory, provider: Provider,
) -> None:
    notify = await start_notify(sender=replace(FAST, sms=provider.config))
    cid = str(uuid.uuid4())
    grandpa = people(cid)
    await ok(await notify.put("/v1/me/channels/sms", headers=grandpa.headers,
                              json={"address": PHONE}))  # no kinds: the critical ones
    await comment_on_new_issue(publisher, cid, grandpa.id)  # not critical: inbox only
    for _ in range(3):
        await remind(publisher, cid, grandpa.id)
    done = await eventually(lambda: _sms(notify, grandpa, 3))
    assert sorted(d["status"] for d in done) == ["failed", "sent", "sent"]
    [limited] = [d for d in done if d["status"] == "failed"]
    assert limited["last_error"] == SMS_TOO_OFTEN and limited["attempts"] == 1
    assert len(provider.texts) == 2 and provider.tokens == ["Bearer provider-token"] * 2
    for text in provider.texts:
        assert text["phone"] == PHONE and text["sign"] == "幸福里"
        assert text["text"].startswith("【邻里】") and len(text["text"]) <= SMS_LIMIT
        assert "表决即将截止" in text["text"]
    assert {d["kind"] for d in done} == {"proposal_reminder"}
    assert len(await inbox(notify, grandpa)) == 5  # every notification is still in the inbox


async def test_the_log_adapter_is_the_default_and_sends_nothing_out(
    people: People, publisher: Publisher, start_notify: NotifyFactory, provider: Provider,
) -> None:
    notify = await start_notify()  # SmsConfig(): provider "log"
    cid = str(uuid.uuid4())
    grandma = people(cid)
    await ok(await notify.put("/v1/me/channels/sms", headers=grandma.headers,
                              json={"address": "13900139000", "kinds": ["proposal_reminder"]}))
    await remind(publisher, cid, grandma.id)
    [sent] = await eventually(lambda: _sms(notify, grandma, 1))
    assert sent["status"] == "sent" and sent["target"] == "13900139000"
    assert provider.texts == []


async def test_concurrent_senders_never_exceed_the_phone_limit(start_notify: NotifyFactory) -> None:
    notify = await start_notify()
    pool = notify.app[POOL]
    phone = f"139{uuid.uuid4().int % 10**8:08d}"

    async def reserve() -> bool:
        async with transaction(pool) as conn:
            return await channel_store.reserve_sms(conn, delivery_id=uuid.uuid4(), phone=phone,
                                                   per_hour=2)

    granted = await asyncio.gather(*(reserve() for _ in range(8)))
    assert sorted(granted) == [False] * 6 + [True] * 2


async def test_a_sign_in_code_goes_through_the_configured_provider(
    start_notify: NotifyFactory, provider: Provider, token: TokenFactory,
) -> None:
    notify = await start_notify(sender=replace(FAST, sms=provider.config))
    portal = {"Authorization": f"Bearer {token(app='portal', scopes=['notify:send'], compounds=['*'])}"}
    person = str(uuid.uuid4())
    sent = await ok(await notify.post(f"/v1/people/{person}/messages", headers=portal, json={
        "kind": "sign_in_code", "values": {"code": "462819", "minutes": "5"}, "phone": PHONE}), 201)
    assert sent["channels"] == ["in_app", "sms"]
    [text] = provider.texts
    assert text["phone"] == PHONE and "462819" in text["text"]
