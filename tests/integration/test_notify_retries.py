"""Deliveries the receiver does not take are retried over about a day on the Standard Webhooks
schedule, survive a restart of notify, then are marked failed in the delivery log (a clock the
test moves replaces the hours); a rotated webhook secret signs beside the old one during its
grace period (several v1 signatures, checked with the standardwebhooks verifier); the kind ×
channel matrix; read notifications are pruned through their index."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from dataclasses import dataclass, replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from standardwebhooks import Webhook

from linli import pruning
from linli.http import POOL
from services.notify.app import READ_NOTIFICATIONS
from services.notify.rules import RETRY_SCHEDULE
from services.notify.sender import NOT_RECEIVED
from tests.conftest import TokenFactory, assert_problem, bearer
from tests.integration.test_meetings_support import Compound
from tests.integration.test_notify_support import (
    FAST,
    NotifyFactory,
    People,
    Person,
    Receiver,
    compound,
    eventually,
    nats_js,
    ok,
    receiver,
    resident,
    start_notify,
)

__all__ = ["compound", "nats_js", "receiver", "start_notify"]  # fixtures
OLD = "whsec_" + base64.b64encode(b"the-old-webhook-secret-32-bytes!").decode()


@pytest.fixture
def people(token: TokenFactory) -> People:
    return People(token)


@dataclass
class Clock:
    """The sender's "now": stands still until the test moves it."""

    at: dt.datetime

    def now(self) -> dt.datetime:
        return self.at


def clock() -> Clock:
    # a minute ahead, so what is queued now is already due for the sender
    return Clock(dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=1))


async def message(notify: TestClient, token: TokenFactory, cid: str, who: Person, title: str) -> Any:
    headers = bearer(token(app="app", scopes=["notify:send"], compounds=[cid]))
    return await ok(await notify.post(f"/v1/compounds/{cid}/messages", headers=headers, json={
        "person_ids": [who.id], "values": {"title": title, "body": "正文"}}), 201)


async def _attempted(notify: TestClient, who: Person, attempts: int,
                     due: dt.datetime | None) -> Any:
    """The delivery once attempt number `attempts` is over: due again at `due`, or given up."""
    [row] = (await ok(await notify.get("/v1/me/deliveries", headers=who.headers)))["items"]
    if row["attempts"] != attempts:
        return None
    if due is None:
        return row if row["status"] == "failed" else None
    return row if dt.datetime.fromisoformat(row["next_attempt_at"]) == due else None


async def test_a_failing_webhook_is_retried_over_hours_across_a_restart_then_failed(
    people: People, token: TokenFactory, start_notify: NotifyFactory, receiver: Receiver,
    compound: Compound,
) -> None:
    receiver.status = 503
    time = clock()
    config = replace(FAST, clock=time.now, retry_schedule=RETRY_SCHEDULE,
                     max_attempts=len(RETRY_SCHEDULE) + 1)
    notify = await start_notify(sender=config)
    cid, alice = compound.id, await resident(compound, people, "alice")
    await ok(await notify.put("/v1/me/preferences", headers=alice.headers, json={
        "webhook_url": receiver.url, "webhook_secret": OLD}))
    await message(notify, token, cid, alice, "停电通知")
    began, current = time.at, notify
    for attempt, wait in enumerate(RETRY_SCHEDULE, start=1):
        # the next try is written to the table, `wait` after the clock's now
        due = time.at + dt.timedelta(seconds=wait)
        row = await eventually(lambda n=attempt, c=current, d=due: _attempted(c, alice, n, d))
        assert row["status"] == "pending" and row["last_error"] == NOT_RECEIVED
        assert len(receiver.received) == attempt  # nothing is tried before it is due
        if attempt == 4:  # notify stops and starts again: the schedule goes on from the table
            await current.close()
            current = await start_notify(sender=config, replica_of=notify)
        time.at = due
    failed = await eventually(lambda: _attempted(current, alice, len(RETRY_SCHEDULE) + 1, None))
    assert failed["status"] == "failed" and failed["last_error"] == NOT_RECEIVED
    span = dt.datetime.fromisoformat(failed["finished_at"]) - began
    assert dt.timedelta(hours=20) < span < dt.timedelta(hours=26)
    assert len(receiver.received) == len(RETRY_SCHEDULE) + 1
    assert len({h["webhook-id"] for h, _ in receiver.received}) == 1  # one message, retried
    for headers, body in receiver.received:
        Webhook(OLD).verify(body, headers)


def _signatures(headers: dict[str, str]) -> list[str]:
    return headers["webhook-signature"].split(" ")


async def test_a_rotated_secret_signs_beside_the_old_one_until_its_grace_ends(
    people: People, token: TokenFactory, start_notify: NotifyFactory, receiver: Receiver,
    compound: Compound,
) -> None:
    time = clock()
    notify = await start_notify(sender=replace(FAST, clock=time.now))
    cid, alice, bob = compound.id, await resident(compound, people, "alice"), people(compound.id)
    rotate = "/v1/me/preferences/webhook-secret/rotate"
    await assert_problem(await notify.post(rotate, headers=bob.headers, json={}), 409, "no-webhook")
    await ok(await notify.put("/v1/me/preferences", headers=alice.headers, json={
        "webhook_url": receiver.url, "webhook_secret": OLD}))
    for bad in ({"grace_hours": 200}, {"grace_hours": -1}, {"secret": "whsec_c2hvcnQ="},
                {"secret": "plain-text-secret-000"}, {"secret": OLD, "extra": 1}):
        await assert_problem(await notify.post(rotate, headers=alice.headers, json=bad), 422,
                             "validation-error")
    rotated = await ok(await notify.post(rotate, headers=alice.headers, json={}))
    new = rotated["secret"]
    assert new.startswith("whsec_") and new != OLD
    until = dt.datetime.fromisoformat(rotated["previous_valid_until"])
    assert dt.timedelta(hours=23) < until - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=24)
    prefs = await ok(await notify.get("/v1/me/preferences", headers=alice.headers))
    assert prefs["webhook_rotating_until"] == rotated["previous_valid_until"]
    assert "secret" not in prefs and prefs["webhook_signed"] is True
    await message(notify, token, cid, alice, "第一条")
    await eventually(lambda: len(receiver.received) == 1)
    headers, body = receiver.received[0]
    assert len(_signatures(headers)) == 2 and all(s.startswith("v1,") for s in _signatures(headers))
    for secret in (OLD, new):  # the receiver may hold either while it switches
        assert Webhook(secret).verify(body, headers)["title"] == "消息：第一条"
    time.at = until + dt.timedelta(minutes=1)  # the grace is over: only the new secret signs
    await message(notify, token, cid, alice, "第二条")
    await eventually(lambda: len(receiver.received) == 2)
    headers, body = receiver.received[1]
    assert len(_signatures(headers)) == 1 and Webhook(new).verify(body, headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(OLD).verify(body, headers)
    now = await ok(await notify.post(rotate, headers=alice.headers, json={"grace_hours": 0}))
    assert now["previous_valid_until"] is None


async def test_the_matrix_shows_which_kinds_reach_which_channels_and_when(
    people: People, token: TokenFactory, start_notify: NotifyFactory,
) -> None:
    notify = await start_notify()
    alice = people(str(uuid.uuid4()))
    await ok(await notify.put("/v1/me/preferences", headers=alice.headers, json={
        "webhook_url": "https://im.example.cn/hook", "kinds": ["issue_commented", "vote_opened"],
        "quiet_start": "22:00", "quiet_end": "07:00"}))
    await ok(await notify.put("/v1/me/channels/email", headers=alice.headers, json={
        "address": "alice@example.cn", "digest_hour": 8}))
    await ok(await notify.put("/v1/me/channels/sms", headers=alice.headers,
                              json={"address": "13900000014"}))  # never sent to
    matrix = await ok(await notify.get("/v1/me/notification-matrix", headers=alice.headers))
    assert matrix["quiet_start"] == "22:00" and matrix["digest_hours"] == {"email": 8}
    rows = {r["kind"]: r for r in matrix["kinds"]}
    assert "sign_in_code" not in rows and rows["app_message"]["label"] == "应用消息"
    assert {k: rows["issue_commented"][k] for k in ("in_app", "webhook", "email", "sms")} == {
        "in_app": "immediate", "webhook": "outside_quiet_hours", "email": "digest", "sms": "off"}
    assert rows["vote_opened"]["critical"] is True  # through quiet hours, never in a digest
    assert {k: rows["vote_opened"][k] for k in ("webhook", "email", "sms")} == {
        "webhook": "immediate", "email": "immediate", "sms": "immediate"}
    assert rows["bills_issued"]["webhook"] == "off" and rows["bills_issued"]["email"] == "digest"
    app = bearer(token(app="app", scopes=["notify:send"]))
    await assert_problem(await notify.get("/v1/me/notification-matrix", headers=app), 403,
                         "forbidden")


async def test_read_notifications_are_pruned_through_their_index_with_their_deliveries(
    people: People, token: TokenFactory, start_notify: NotifyFactory, receiver: Receiver,
    compound: Compound,
) -> None:
    notify = await start_notify()
    cid, alice = compound.id, await resident(compound, people, "alice")
    await ok(await notify.put("/v1/me/preferences", headers=alice.headers,
                              json={"webhook_url": receiver.url}))
    for title in ("旧的", "新的"):
        await message(notify, token, cid, alice, title)
    await eventually(lambda: len(receiver.received) == 2)
    pool = notify.app[POOL]
    async with pool.acquire() as conn:
        await conn.execute("UPDATE notifications SET read_at = now() - interval '200 days'"
                           " WHERE person_id = $1 AND title = '消息：旧的'", alice.id)
        async with conn.transaction():
            await conn.execute("SET LOCAL enable_seqscan = off")
            plan = "\n".join(r[0] for r in await conn.fetch(
                "EXPLAIN DELETE FROM notifications WHERE ctid = ANY(ARRAY(SELECT ctid FROM"
                " notifications WHERE"
                f" {READ_NOTIFICATIONS.condition.replace('$1', 'now()')} LIMIT 10))"))
    assert "notifications_read_at" in plan
    assert await pruning.prune_table(pool, service="notify", rule=READ_NOTIFICATIONS) >= 1
    page = await ok(await notify.get("/v1/me/inbox", headers=alice.headers))
    assert [n["title"] for n in page["items"]] == ["消息：新的"]
    log = await ok(await notify.get("/v1/me/deliveries", headers=alice.headers))
    assert len(log["items"]) == 1 and log["items"][0]["notification_id"] == page["items"][0]["id"]
