"""Messages other apps send (POST /v1/compounds/{cid}/messages and /broadcasts): the same
channels and preferences as events, one message per Idempotency-Key, who may reach a whole
compound, problem+json for bad input; and the portal link every channel carries."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from linli.config import Settings
from services.directory.app import create_app as directory_app
from services.notify.links import PortalLinks
from services.notify.rules import SMS_LIMIT
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer
from tests.integration.test_meetings_support import Compound, new_compound
from tests.integration.test_notify_audiences import organisation
from tests.integration.test_notify_bots import WECOM_KEY, Platforms, add_bot, platforms
from tests.integration.test_notify_sms import Provider, provider
from tests.integration.test_notify_support import (
    FAST,
    NotifyFactory,
    People,
    Person,
    Receiver,
    compound,
    eventually,
    inbox,
    nats_js,
    notices,
    ok,
    receiver,
    resident,
    start_notify,
)

__all__ = ["compound", "nats_js", "platforms", "provider", "receiver", "start_notify"]  # fixtures
PORTAL = "https://portal.xingfuli.example.cn"
LINKED = replace(FAST, links=PortalLinks(PORTAL))


@pytest.fixture
def people(token: TokenFactory) -> People:
    return People(token)


def a_phone() -> str:
    """A phone of this test's own: the per-phone hourly SMS limit counts across the database."""
    return f"139{uuid.uuid4().int % 10**8:08d}"


def app_headers(token: TokenFactory, cid: str, *scopes: str, key: str | None = None) -> dict[str, str]:
    headers = bearer(token(app="property-system", scopes=list(scopes), compounds=[cid]))
    return headers | ({"Idempotency-Key": key} if key else {})


async def _deliveries(notify: TestClient, who: Person, n: int, status: str = "sent") -> Any:
    page = await ok(await notify.get("/v1/me/deliveries", headers=who.headers))
    done = [d for d in page["items"] if d["status"] == status]
    return done if len(done) >= n else None


async def test_an_apps_message_reaches_each_persons_channels_once_per_key_with_the_link(
    people: People, token: TokenFactory, start_notify: NotifyFactory, receiver: Receiver,
    provider: Provider, compound: Compound,
) -> None:
    notify = await start_notify(sender=replace(LINKED, sms=provider.config))
    cid = compound.id
    alice, grandpa = await resident(compound, people, "alice"), await resident(compound, people, "爷爷")
    await ok(await notify.put("/v1/me/preferences", headers=alice.headers,
                              json={"webhook_url": receiver.url}))
    await ok(await notify.put("/v1/me/channels/sms", headers=grandpa.headers,
                              json={"address": a_phone(), "kinds": ["app_message"]}))
    issue = str(uuid.uuid4())
    body = {"person_ids": [alice.id, grandpa.id], "about": "issue", "about_id": issue,
            "values": {"title": "3号楼明天停水", "body": "明天 9:00–17:00 更换水泵，请提前储水。"}}
    url = f"/v1/compounds/{cid}/messages"
    headers = app_headers(token, cid, "notify:send", key="water-cut-3")
    first = await ok(await notify.post(url, json=body, headers=headers), 201)
    assert first["people"] == 2 and first["deliveries"] == 2 and first["audience"] == "person"
    again = await notify.post(url, json=body, headers=headers)
    assert await ok(again, 201) == first and again.headers["Idempotent-Replayed"] == "true"
    changed = {**body, "values": {**body["values"], "title": "3号楼后天停水"}}
    await assert_problem(await notify.post(url, json=changed, headers=headers), 422,
                         "validation-error")
    for who in (alice, grandpa):  # one message each, whatever was retried
        [item] = await inbox(notify, who)
        assert item["title"] == "消息：3号楼明天停水" and item["kind"] == "app_message"
    [sent] = await eventually(lambda: _deliveries(notify, alice, 1))
    [(_, raw)] = receiver.received
    payload = json.loads(raw)
    assert payload["id"] == sent["notification_id"] and payload["event_type"].startswith("linli.notify")
    assert payload["link"] == f"{PORTAL}/c/{cid}/issues/{issue}"
    await eventually(lambda: _deliveries(notify, grandpa, 1))
    [text] = provider.texts
    assert "https://" not in text["text"]  # a link this long would leave no room for the title
    assert len(text["text"]) <= SMS_LIMIT and text["text"].startswith("【邻里】消息：3号楼明天停水")


async def test_a_short_portal_link_fits_in_the_sms_after_a_shortened_title(
    people: People, token: TokenFactory, start_notify: NotifyFactory, provider: Provider,
    compound: Compound,
) -> None:
    short = "https://l.cn"
    notify = await start_notify(sender=replace(FAST, sms=provider.config, links=PortalLinks(short)))
    cid, grandpa = compound.id, await resident(compound, people, "爷爷")
    await ok(await notify.put("/v1/me/channels/sms", headers=grandpa.headers,
                              json={"address": a_phone(), "kinds": ["app_message"]}))
    long_title = "小区东门道路施工，" * 10
    await ok(await notify.post(f"/v1/compounds/{cid}/messages", headers=app_headers(
        token, cid, "notify:send"), json={"person_ids": [grandpa.id], "about": "bills",
                                          "values": {"title": long_title, "body": "请绕行。"}}), 201)
    await eventually(lambda: _deliveries(notify, grandpa, 1))
    [text] = provider.texts
    link = f"{short}/c/{cid}/bills"
    assert len(text["text"]) <= SMS_LIMIT and text["text"].endswith(f"… {link}")


async def test_an_organisation_hears_through_its_members_and_its_group_bot(
    serve: AppFactory, settings: Settings, token: TokenFactory, people: People,
    start_notify: NotifyFactory, platforms: Platforms,
) -> None:
    directory = await serve(directory_app, port=settings.port("directory"))
    notify = await start_notify(sender=LINKED)
    c = await new_compound(directory, token)
    manager = await organisation(c, "property", "林经理")
    chair = await organisation(c, "owners_committee", "陈主任")
    secretary = people(c.id, "party_branch")
    await add_bot(notify, c.id, secretary.headers, organisation="property", platform="wecom",
                  name="物业群", url=platforms.url(f"/cgi-bin/webhook/send?key={WECOM_KEY}"))
    meeting = str(uuid.uuid4())
    sent = await ok(await notify.post(f"/v1/compounds/{c.id}/messages", headers=secretary.headers,
                                      json={"organisations": ["property"], "about": "meeting",
                                            "about_id": meeting, "values": {
                                                "title": "请物业列席议事会", "body": "周五 19:00。"}}), 201)
    assert sent["audience"] == "role" and sent["people"] == 1 and sent["deliveries"] == 1
    [item] = await inbox(notify, people(c.id, person=manager))
    assert item["title"] == "消息：请物业列席议事会"
    assert await inbox(notify, people(c.id, person=chair)) == []
    await eventually(lambda: len(platforms.accepted["wecom"]) == 1)
    [w] = platforms.accepted["wecom"]
    assert f"[查看详情]({PORTAL}/c/{c.id}/meetings)" in w["markdown"]["content"]


async def test_only_broadcasters_reach_a_whole_compound(
    people: People, token: TokenFactory, start_notify: NotifyFactory, platforms: Platforms,
) -> None:
    notify = await start_notify(sender=LINKED)
    cid, elsewhere = str(uuid.uuid4()), str(uuid.uuid4())
    community, property_staff, resident = people(cid, "community"), people(cid, "property"), people(cid)
    await add_bot(notify, cid, community.headers, organisation="compound", platform="wecom",
                  name="小区群", url=platforms.url(f"/cgi-bin/webhook/send?key={WECOM_KEY}"))
    vote = str(uuid.uuid4())
    body = {"kind": "announcement", "about": "vote", "about_id": vote,
            "values": {"title": "电梯加装表决今晚截止", "body": "尚未投票的业主请尽快投票。"}}
    url = f"/v1/compounds/{cid}/broadcasts"
    for headers in (property_staff.headers, resident.headers,
                    app_headers(token, cid, "notify:send"),  # may message people, not everyone
                    people(elsewhere, "community").headers):
        await assert_problem(await notify.post(url, json=body, headers=headers), 403, "forbidden")
    other_app = bearer(token(app="x", scopes=["notify:broadcast"], compounds=[elsewhere]))
    await assert_problem(await notify.post(url, json=body, headers=other_app), 403, "forbidden")
    assert await notices(notify, cid, resident) == []
    sent = await ok(await notify.post(url, json=body, headers=app_headers(
        token, cid, "notify:broadcast", key="vote-closing")), 201)
    assert sent["audience"] == "compound" and sent["notice_id"] and sent["deliveries"] == 1
    [notice] = await notices(notify, cid, resident)
    assert notice["title"] == "社区公告：电梯加装表决今晚截止" and notice["id"] == sent["notice_id"]
    await eventually(lambda: len(platforms.accepted["wecom"]) == 1)
    assert f"({PORTAL}/c/{cid}/votes/{vote})" in platforms.accepted["wecom"][0]["markdown"]["content"]
    await ok(await notify.post(url, json=body, headers=community.headers), 201)  # a new message
    assert len(await notices(notify, cid, resident)) == 2


async def test_bad_messages_are_problems_and_send_nothing(
    people: People, token: TokenFactory, start_notify: NotifyFactory,
) -> None:
    notify = await start_notify()
    cid = str(uuid.uuid4())
    alice, staff = people(cid), people(cid, "community")
    good = {"person_ids": [alice.id], "values": {"title": "标题", "body": "正文"}}
    url = f"/v1/compounds/{cid}/messages"
    for bad in (
        {**good, "values": {"title": "只有标题"}},  # a placeholder without its value
        {**good, "values": {"title": "t", "body": "b", "who": "x"}},  # one the kind lacks
        {**good, "values": {"title": " ", "body": "b"}},
        {**good, "kind": "sign_in_code", "values": {"code": "1234", "minutes": "5"}},
        {**good, "kind": "no_such_kind"},
        {**good, "organisations": ["property"]},  # both audiences
        {"values": good["values"]},  # neither
        {**good, "organisations": ["everyone"], "person_ids": []},
        {**good, "person_ids": ["not-a-uuid"]},
        {**good, "about": "issue"},  # an issue page needs its id
        {**good, "about_id": "x"},
        {**good, "about": "elsewhere", "about_id": "x"},
        {**good, "about": "issue", "about_id": "../../admin"},
        {**good, "extra": True},
    ):
        await assert_problem(await notify.post(url, json=bad, headers=staff.headers), 422,
                             "validation-error")
    await assert_problem(await notify.post(url, json=good, headers=alice.headers), 403, "forbidden")
    await assert_problem(await notify.post(url, data=b"{", headers={
        **staff.headers, "Content-Type": "application/json"}), 400, "malformed-json")
    await assert_problem(await notify.post("/v1/compounds/not-a-compound/messages", json=good,
                                           headers=staff.headers), 403, "forbidden")
    assert await inbox(notify, alice) == []
