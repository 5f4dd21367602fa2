"""IM group bots against a local server that checks each platform's documented request:
WeCom (key in the URL, markdown / text with @ by phone), DingTalk (timestamp in ms and sign =
urlencoded base64 HMAC-SHA256 keyed by the secret over "timestamp\\nsecret"), Feishu (timestamp
in s and sign = base64 HMAC-SHA256 keyed by "timestamp\\nsecret" over nothing, in the body).
The checks here are written from the platforms' documentation, not from the sender's code."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from linli.config import Settings
from linli.http import POOL
from services.directory.app import create_app as directory_app
from services.meetings import events as meeting_events
from services.notify.transports import BOT_NOT_RECEIVED
from tests.conftest import AppFactory, TokenFactory, assert_problem
from tests.integration.test_meetings_support import new_compound
from tests.integration.test_notify_audiences import escalate
from tests.integration.test_notify_support import (
    FAST,
    NotifyFactory,
    People,
    Publisher,
    eventually,
    nats_js,
    ok,
    publisher,
    start_notify,
)

__all__ = ["nats_js", "publisher", "start_notify"]  # fixtures
DING_SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
FEISHU_SECRET = "fs-secret-Qw8zR2xY"
WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


@pytest.fixture
def people(token: TokenFactory) -> People:
    return People(token)


@dataclass
class Platforms:
    """One local server playing WeCom, DingTalk and Feishu; keeps what each accepted."""

    server: TestServer
    accepted: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"wecom": [], "dingtalk": [], "feishu": []})
    refused: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))


def _fresh(stamp: float) -> bool:
    return abs(time.time() - stamp) < 3600  # both platforms allow an hour


@pytest.fixture
async def platforms() -> AsyncIterator[Platforms]:
    box: list[Platforms] = []

    async def wecom(request: web.Request) -> web.Response:
        body = await request.json()
        if request.query.get("key") != WECOM_KEY:
            box[0].refused.append("wecom")
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        assert body["msgtype"] in ("markdown", "text")
        box[0].accepted["wecom"].append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def dingtalk(request: web.Request) -> web.Response:
        stamp, sign = request.query.get("timestamp", ""), request.query.get("sign", "")
        expected = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{stamp}\n{DING_SECRET}".encode(),
                                             hashlib.sha256).digest()).decode()
        if (request.query.get("access_token") != "ding-token" or not stamp.isdigit()
                or not _fresh(int(stamp) / 1000) or not hmac.compare_digest(sign, expected)):
            box[0].refused.append("dingtalk")
            return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        box[0].accepted["dingtalk"].append(await request.json())
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def feishu(request: web.Request) -> web.Response:
        body = await request.json()
        stamp = str(body.get("timestamp", ""))
        expected = base64.b64encode(hmac.new(f"{stamp}\n{FEISHU_SECRET}".encode(), b"",
                                             hashlib.sha256).digest()).decode()
        if not stamp.isdigit() or not _fresh(int(stamp)) or body.get("sign") != expected:
            box[0].refused.append("feishu")
            return web.json_response({"code": 19021, "msg": "sign match fail"})
        box[0].accepted["feishu"].append(body)
        return web.json_response({"code": 0, "msg": "success", "data": {}})

    app = web.Application()
    app.router.add_post("/cgi-bin/webhook/send", wecom)
    app.router.add_post("/robot/send", dingtalk)
    app.router.add_post("/open-apis/bot/v2/hook/{hook}", feishu)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    box.append(Platforms(server))
    yield box[0]
    await server.close()


async def add_bot(notify: TestClient, cid: str, headers: dict[str, str], **body: Any) -> Any:
    return await ok(await notify.post(f"/v1/compounds/{cid}/bots", headers=headers, json=body), 201)


async def _has(platforms: Platforms, counts: dict[str, int]) -> bool:
    return all(len(platforms.accepted[p]) >= n for p, n in counts.items())


async def test_a_notice_reaches_the_compound_groups_signed_as_each_platform_requires(
    people: People, publisher: Publisher, start_notify: NotifyFactory, platforms: Platforms,
) -> None:
    notify = await start_notify()
    cid = str(uuid.uuid4())
    staff = people(cid, "community")
    wecom = await add_bot(notify, cid, staff.headers, organisation="compound", platform="wecom",
                          name="物业服务群", url=platforms.url(f"/cgi-bin/webhook/send?key={WECOM_KEY}"))
    ding = await add_bot(notify, cid, staff.headers, organisation="compound", platform="dingtalk",
                         name="社区钉钉群", url=platforms.url("/robot/send?access_token=ding-token"),
                         secret=DING_SECRET, mention_mobiles=["13800138000"])
    feishu = await add_bot(notify, cid, staff.headers, organisation="compound", platform="feishu",
                           name="业委会飞书群", url=platforms.url("/open-apis/bot/v2/hook/abc"),
                           secret=FEISHU_SECRET)
    assert ding["signed"] is True and wecom["signed"] is False and ding["host"] == "127.0.0.1"
    listed = (await ok(await notify.get(f"/v1/compounds/{cid}/bots", headers=staff.headers)))["items"]
    assert {b["id"] for b in listed} == {wecom["id"], ding["id"], feishu["id"]}
    assert all("secret" not in b and "url" not in b for b in listed)  # credentials never shown
    async with notify.app[POOL].acquire() as conn:  # and stored sealed
        stored = await conn.fetchval("SELECT secret FROM bots WHERE id = $1", uuid.UUID(ding["id"]))
    assert stored.startswith("enc1:") and DING_SECRET not in stored
    pid = uuid.uuid4()
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    await publisher.emit(meeting_events.VOTE_OPENED, meeting_events.VoteOpened(
        vote_id=uuid.uuid4(), proposal_id=pid, compound_id=uuid.UUID(cid), version=1,
        rule="civil_code_major", secret=False, closes_at=closes, roll_entries=120,
        total_area_centi=1_000_000, total_headcount=118), subject=str(pid), compound_id=cid)
    await eventually(lambda: _has(platforms, {"wecom": 1, "dingtalk": 1, "feishu": 1}))
    assert platforms.refused == []
    [w] = platforms.accepted["wecom"]
    assert w["msgtype"] == "markdown" and w["markdown"]["content"].startswith("### ")
    assert "表决" in w["markdown"]["content"]
    [d] = platforms.accepted["dingtalk"]
    assert d["msgtype"] == "markdown" and d["at"]["atMobiles"] == ["13800138000"]
    assert "@13800138000" in d["markdown"]["text"] and "表决" in d["markdown"]["title"]
    [f] = platforms.accepted["feishu"]
    assert f["msg_type"] == "interactive" and "表决" in f["card"]["header"]["title"]["content"]
    log = await eventually(lambda: _sent_bots(notify, cid, staff.headers, 3))
    assert {d["channel"] for d in log} == {"wecom", "dingtalk", "feishu"}
    assert all(d["person_id"] is None and d["bot_id"] for d in log)


async def _sent_bots(notify: TestClient, cid: str, headers: dict[str, str], n: int) -> Any:
    page = await ok(await notify.get(f"/v1/compounds/{cid}/deliveries?status=sent", headers=headers))
    return page["items"] if len(page["items"]) >= n else None


async def test_a_wrong_secret_is_refused_by_the_platform_and_logged_neutrally(
    people: People, publisher: Publisher, start_notify: NotifyFactory, platforms: Platforms,
) -> None:
    notify = await start_notify()
    cid = str(uuid.uuid4())
    staff = people(cid, "property")
    await add_bot(notify, cid, staff.headers, organisation="compound", platform="feishu",
                  name="错误密钥", url=platforms.url("/open-apis/bot/v2/hook/abc"),
                  secret="not-the-right-secret")
    pid, now = uuid.uuid4(), dt.datetime.now(dt.UTC)
    await publisher.emit(meeting_events.MINUTES_PUBLISHED, meeting_events.MinutesPublished(
        meeting_id=pid, compound_id=uuid.UUID(cid), title="第三次业主大会",
        published_at=now.isoformat(), notice_until=(now + dt.timedelta(days=7)).isoformat()),
        subject=str(pid), compound_id=cid)
    failed = await eventually(lambda: _failed(notify, cid, staff.headers))
    assert failed["last_error"] == BOT_NOT_RECEIVED and failed["attempts"] == 3
    assert platforms.refused == ["feishu"] * 3 and platforms.accepted["feishu"] == []


async def _failed(notify: TestClient, cid: str, headers: dict[str, str]) -> Any:
    page = await ok(await notify.get(f"/v1/compounds/{cid}/deliveries?status=failed", headers=headers))
    return page["items"][0] if page["items"] else None


async def test_an_escalation_reaches_the_council_groups_not_the_property_group(
    serve: AppFactory, settings: Settings, token: TokenFactory, people: People,
    publisher: Publisher, start_notify: NotifyFactory, platforms: Platforms,
) -> None:
    directory = await serve(directory_app, port=settings.port("directory"))
    notify = await start_notify()
    c = await new_compound(directory, token)
    staff = people(c.id, "party_branch")
    url = platforms.url(f"/cgi-bin/webhook/send?key={WECOM_KEY}")
    for organisation in ("owners_committee", "property"):
        await add_bot(notify, c.id, staff.headers, organisation=organisation, platform="wecom",
                      name=f"{organisation}群", url=url)
    _, event = await escalate(publisher, c.id, people(c.id).id)
    await eventually(lambda: _has(platforms, {"wecom": 1}))
    await publisher.redeliver(event)  # once per event and bot, also when redelivered
    log = await eventually(lambda: _sent_bots(notify, c.id, staff.headers, 1))
    assert len(log) == 1 and log[0]["kind"] == "issue_escalated"
    [w] = platforms.accepted["wecom"]
    assert "顶楼太热" in w["markdown"]["content"]


async def test_bots_are_for_staff_and_checked(
    people: People, start_notify: NotifyFactory, platforms: Platforms,
) -> None:
    notify = await start_notify()
    cid = str(uuid.uuid4())
    staff, resident = people(cid, "property"), people(cid)
    good = {"organisation": "property", "platform": "wecom", "name": "物业群",
            "url": platforms.url("/cgi-bin/webhook/send?key=k")}
    await assert_problem(await notify.post(f"/v1/compounds/{cid}/bots", headers=resident.headers,
                                           json=good), 403, "forbidden")
    for bad in ({**good, "platform": "qq"}, {**good, "organisation": "everyone"},
                {**good, "url": "ftp://x"}, {**good, "kinds": ["nope"]}):
        await assert_problem(await notify.post(f"/v1/compounds/{cid}/bots", headers=staff.headers,
                                               json=bad), 422, "validation-error")
    assert (await ok(await notify.get(f"/v1/compounds/{cid}/bots", headers=staff.headers)))[
        "items"] == []
    bot = await add_bot(notify, cid, staff.headers, **good)
    gone = await notify.delete(f"/v1/compounds/{cid}/bots/{bot['id']}", headers=staff.headers)
    assert gone.status == 204
    await assert_problem(await notify.delete(f"/v1/compounds/{cid}/bots/{bot['id']}",
                                             headers=staff.headers), 404, "not-found")
    # without LINLI_NOTIFY_ALLOW_INTERNAL_WEBHOOKS a bot inside the deployment is refused
    strict = await start_notify(sender=replace(FAST, allow_internal=False))
    await assert_problem(await strict.post(f"/v1/compounds/{cid}/bots", headers=staff.headers,
                                           json=good), 422, "validation-error")


async def test_a_bot_retried_with_its_idempotency_key_is_added_once(
    people: People, start_notify: NotifyFactory, platforms: Platforms,
) -> None:
    """Staff re-submitting the form after a lost answer (the README's creating POSTs take
    `Idempotency-Key`): one bot (else every notice would reach the group twice), the first
    answer replayed, and the key with another body refused."""
    notify = await start_notify()
    cid = str(uuid.uuid4())
    staff = people(cid, "property")
    url, key = f"/v1/compounds/{cid}/bots", {"Idempotency-Key": f"bot-{uuid.uuid4()}"}
    body = {"organisation": "property", "platform": "wecom", "name": "物业群",
            "url": platforms.url(f"/cgi-bin/webhook/send?key={WECOM_KEY}")}

    first = await notify.post(url, headers=staff.headers | key, json=body)
    again = await notify.post(url, headers=staff.headers | key, json=body)
    assert (first.status, again.status) == (201, 201)
    assert again.headers.get("Idempotent-Replayed") == "true"
    added = await first.json()
    assert await again.json() == added
    await assert_problem(await notify.post(url, headers=staff.headers | key,
                                           json=body | {"name": "业委会群"}), 422,
                         "validation-error")
    listed = (await ok(await notify.get(url, headers=staff.headers)))["items"]
    assert [b["id"] for b in listed] == [added["id"]]
