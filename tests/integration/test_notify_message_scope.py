"""Messages reach only people of the compound they are sent in: staff or an app of one compound
naming a resident of another (POST /v1/compounds/{cid}/messages, or a direct message about a
compound) is refused whole with a 422 naming who is not in the compound, and nothing is written
(no inbox row, no delivery, no Idempotency-Key kept); without the directory, a 503. A direct
message's phone and sign-in codes come only from an app acting in every compound (the portal)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from linli.http import POOL
from tests.conftest import TokenFactory, assert_problem, bearer
from tests.integration.test_meetings_support import Compound, new_compound
from tests.integration.test_notify_support import (
    NotifyFactory,
    People,
    Person,
    Receiver,
    compound,
    eventually,
    inbox,
    nats_js,
    ok,
    receiver,
    resident,
    start_notify,
)

__all__ = ["compound", "nats_js", "receiver", "start_notify"]  # fixtures
WATER = {"title": "3号楼明天停水", "body": "明天 9:00–17:00 更换水泵，请提前储水。"}


@pytest.fixture
def people(token: TokenFactory) -> People:
    return People(token)


async def _stranger(c: Compound, people: People, receiver: Receiver, notify: TestClient) -> Person:
    """A resident of another compound who takes webhooks (a delivery would show at once)."""
    other = await new_compound(c.directory, token=people.token, name="南山归侨安置小区")
    stranger = await resident(other, people, "南山居民")
    await ok(await notify.put("/v1/me/preferences", headers=stranger.headers,
                              json={"webhook_url": receiver.url}))
    return stranger


async def _written(notify: TestClient, cid: str, who: list[Person], key: str) -> dict[str, int]:
    """What notify holds of this compound, these people or this Idempotency-Key."""
    ids = [p.id for p in who]
    async with notify.app[POOL].acquire() as conn:
        return {
            "notifications": await conn.fetchval(
                "SELECT count(*) FROM notifications WHERE compound_id = $1 OR person_id = ANY($2)",
                uuid.UUID(cid), ids),
            "deliveries": await conn.fetchval(
                "SELECT count(*) FROM deliveries WHERE compound_id = $1 OR person_id = ANY($2)",
                uuid.UUID(cid), ids),
            "keys": await conn.fetchval("SELECT count(*) FROM idempotency WHERE key = $1", key),
        }


NOTHING = {"notifications": 0, "deliveries": 0, "keys": 0}


async def test_a_person_of_another_compound_is_refused_and_nothing_is_written(
    people: People, token: TokenFactory, start_notify: NotifyFactory, receiver: Receiver,
    compound: Compound,
) -> None:
    notify = await start_notify()
    stranger = await _stranger(compound, people, receiver, notify)
    key = f"reach-out-{uuid.uuid4()}"
    url = f"/v1/compounds/{compound.id}/messages"
    for sender in (people(compound.id, "property"),  # staff of this compound, or its app
                   Person("app", bearer(token(app="property-system", scopes=["notify:send"],
                                              compounds=[compound.id])))):
        r = await notify.post(url, json={"person_ids": [stranger.id], "values": WATER},
                              headers=sender.headers | {"Idempotency-Key": key})
        body = await assert_problem(r, 422, "validation-error")
        assert "不属于本小区" in body["detail"] and stranger.id in body["detail"], body
        assert body["errors"] == [{"field": "person_ids", "detail": body["detail"]}]
    assert await inbox(notify, stranger) == []
    assert await _written(notify, compound.id, [stranger], key) == NOTHING
    assert receiver.received == []


async def test_a_person_of_the_compound_is_still_delivered(
    people: People, token: TokenFactory, start_notify: NotifyFactory, receiver: Receiver,
    compound: Compound,
) -> None:
    notify = await start_notify()
    owner = await resident(compound, people, "业主王")
    tenant = people(compound.id, person=await compound.tenant("租户张"))
    await ok(await notify.put("/v1/me/preferences", headers=tenant.headers,
                              json={"webhook_url": receiver.url}))
    staff = people(compound.id, "community")
    sent = await ok(await notify.post(f"/v1/compounds/{compound.id}/messages", json={
        "person_ids": [owner.id, tenant.id, owner.id], "values": WATER}, headers=staff.headers), 201)
    assert sent["audience"] == "person" and sent["people"] == 2 and sent["deliveries"] == 1
    for who in (owner, tenant):
        [item] = await inbox(notify, who)
        assert item["title"] == "消息：3号楼明天停水"
    await eventually(lambda: len(receiver.received) == 1)


async def test_a_mixed_list_is_refused_whole_then_the_same_key_sends_the_corrected_one(
    people: People, token: TokenFactory, start_notify: NotifyFactory, receiver: Receiver,
    compound: Compound,
) -> None:
    notify = await start_notify()
    alice = await resident(compound, people, "alice")
    stranger = await _stranger(compound, people, receiver, notify)
    nobody = str(uuid.uuid4())  # no such person anywhere
    staff = people(compound.id, "party_branch")
    key = f"mixed-{uuid.uuid4()}"
    headers = staff.headers | {"Idempotency-Key": key}
    url = f"/v1/compounds/{compound.id}/messages"
    r = await notify.post(url, json={"person_ids": [alice.id, stranger.id, nobody], "values": WATER},
                          headers=headers)
    detail = (await assert_problem(r, 422, "validation-error"))["detail"]
    assert stranger.id in detail and nobody in detail and alice.id not in detail
    assert await inbox(notify, alice) == [] and await inbox(notify, stranger) == []
    assert await _written(notify, compound.id, [alice, stranger], key) == NOTHING
    # nothing kept for the key either: the corrected list goes out under it
    sent = await ok(await notify.post(url, json={"person_ids": [alice.id], "values": WATER},
                                      headers=headers), 201)
    assert sent["people"] == 1
    assert len(await inbox(notify, alice)) == 1 and await inbox(notify, stranger) == []


async def test_without_the_directory_a_message_to_people_is_a_503_and_writes_nothing(
    people: People, start_notify: NotifyFactory,
) -> None:
    notify = await start_notify()  # and no directory where notify looks for it
    cid = str(uuid.uuid4())
    alice, staff = people(cid), people(cid, "community")
    key = f"down-{uuid.uuid4()}"
    r = await notify.post(f"/v1/compounds/{cid}/messages", json={
        "person_ids": [alice.id], "values": WATER}, headers=staff.headers | {"Idempotency-Key": key})
    assert r.status == 503 and r.headers["Retry-After"].isdigit(), await r.text()
    assert r.content_type == "application/problem+json" and (await r.json())["detail"]
    assert await inbox(notify, alice) == []
    assert await _written(notify, cid, [alice], key) == NOTHING


async def test_a_direct_message_about_a_compound_reaches_only_its_people(
    people: People, token: TokenFactory, start_notify: NotifyFactory, receiver: Receiver,
    compound: Compound,
) -> None:
    notify = await start_notify()
    alice = await resident(compound, people, "alice")
    stranger = await _stranger(compound, people, receiver, notify)
    code = {"kind": "sign_in_code", "values": {"code": "428913", "minutes": "10"}}
    portal = bearer(token(app="portal", scopes=["notify:send"], compounds=["*"]))

    async def send(who: Person, body: dict[str, Any], headers: dict[str, str]) -> Any:
        return await notify.post(f"/v1/people/{who.id}/messages", json=body, headers=headers)

    about = {**code, "compound_id": compound.id}
    body = await assert_problem(await send(stranger, about, portal), 422, "validation-error")
    assert stranger.id in body["detail"] and body["errors"][0]["field"] == "person_id"
    # a compound the directory does not know is a bad field of the body, not a missing page
    elsewhere = {**code, "compound_id": str(uuid.uuid4())}
    body = await assert_problem(await send(alice, elsewhere, portal), 422, "validation-error")
    assert body["errors"] == [{"field": "compound_id", "detail": "小区不存在"}], body
    assert await inbox(notify, stranger) == [] and await inbox(notify, alice) == []
    await ok(await send(alice, about, portal), 201)
    [item] = await inbox(notify, alice)
    assert item["title"] == "登录验证码 428913"
    await ok(await send(stranger, code, portal), 201)  # the platform's sign-in: no compound


async def test_an_app_of_one_compound_neither_names_a_phone_nor_sends_sign_in_codes(
    people: People, token: TokenFactory, start_notify: NotifyFactory, compound: Compound,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Else it could text any number a code-looking message with words of its own (a phishing
    link in `values`), or put fake codes in its residents' inboxes."""
    notify = await start_notify()
    alice = await resident(compound, people, "alice")
    of_compound = bearer(token(app="property-system", scopes=["notify:send"],
                               compounds=[compound.id]))
    lure = {"kind": "sign_in_code", "compound_id": compound.id,
            "values": {"code": "请点击 http://example.invalid/pay 缴费", "minutes": "10"}}
    url = f"/v1/people/{alice.id}/messages"
    with caplog.at_level(logging.INFO, logger="linli.notify.sms"):
        r = await notify.post(url, json={**lure, "phone": "13900009999"}, headers=of_compound)
        assert "短信号码 (phone)" in (await assert_problem(r, 403, "forbidden"))["detail"]
        r = await notify.post(url, json=lure, headers=of_compound)  # the resident's own inbox
        assert "登录验证码" in (await assert_problem(r, 403, "forbidden"))["detail"]
        r = await notify.post(url, json={k: v for k, v in lure.items() if k != "compound_id"},
                              headers=of_compound)
        await assert_problem(r, 403, "forbidden")
        # a person is no app, not even a platform admin acting everywhere
        admin = people("*", "admin")
        r = await notify.post(url, json={**lure, "phone": "13900009999"}, headers=admin.headers)
        assert "应用" in (await assert_problem(r, 403, "forbidden"))["detail"]
    assert [r.getMessage() for r in caplog.records if r.name == "linli.notify.sms"] == []
    assert await inbox(notify, alice) == []
    assert await _written(notify, compound.id, [alice], "") == NOTHING
