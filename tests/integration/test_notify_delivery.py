"""Channels beyond the inbox: webhook deliveries to a local receiver (signed, retried with
backoff, then failed), quiet hours, kinds, the delivery log; preferences and templates reject
bad input with problem+json and write nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from typing import Any

import pytest

from linli.app import CONSUMERS
from services.issues import events as issue_events
from services.meetings import events as meeting_events
from services.notify.app import PREFIX
from services.notify.rules import CST
from services.notify.sender import NOT_RECEIVED
from tests.conftest import TokenFactory, assert_problem, eventually
from tests.integration.test_notify_support import (
    NotifyFactory,
    People,
    Person,
    Publisher,
    Receiver,
    inbox,
    nats_js,
    ok,
    publisher,
    receiver,
    start_notify,
)

__all__ = ["nats_js", "publisher", "receiver", "start_notify"]  # fixtures
SECRET = "im-bot-shared-secret-0123"


@pytest.fixture
def people(token: TokenFactory) -> People:
    return People(token)


async def comment_on_new_issue(publisher: Publisher, cid: str, reporter: str,
                               title: str = "楼道灯坏了") -> None:
    issue_id = uuid.uuid4()
    await publisher.emit(issue_events.ISSUE_REPORTED, issue_events.IssueReported(
        issue_id=issue_id, compound_id=uuid.UUID(cid), category="repair", title=title,
        responsible="property", reporter_id=reporter, area="corridor"),
        subject=str(issue_id), compound_id=cid)
    for data in (issue_events.IssueStatusChanged(
            issue_id=issue_id, compound_id=uuid.UUID(cid), category="repair",
            from_status="submitted", to_status="accepted"),):
        await publisher.emit(issue_events.ISSUE_STATUS_CHANGED, data, subject=str(issue_id),
                             compound_id=cid)
    await publisher.emit(issue_events.ISSUE_COMMENTED, issue_events.IssueCommented(
        issue_id=issue_id, compound_id=uuid.UUID(cid), comment_id=uuid.uuid4(), official=True),
        subject=str(issue_id), compound_id=cid)


async def my_deliveries(notify: Any, who: Person, n: int, status: str | None = None) -> Any:
    page = await ok(await notify.get("/v1/me/deliveries", headers=who.headers))
    items = [d for d in page["items"] if status is None or d["status"] == status]
    return items if len(items) >= n else None


async def test_a_webhook_delivery_is_signed_sent_and_logged(
    people: People, publisher: Publisher, start_notify: NotifyFactory, receiver: Receiver,
) -> None:
    notify = await start_notify()
    cid = str(uuid.uuid4())
    alice, staff, resident = people(cid), people(cid, "property"), people(cid)
    prefs = await ok(await notify.put("/v1/me/preferences", headers=alice.headers, json={
        "webhook_url": receiver.url, "webhook_secret": SECRET, "kinds": ["issue_commented"]}))
    assert prefs["webhook_signed"] is True and "webhook_secret" not in prefs
    await comment_on_new_issue(publisher, cid, alice.id)
    [sent] = await eventually(lambda: my_deliveries(notify, alice, 1, "sent"))
    assert sent["kind"] == "issue_commented" and sent["attempts"] == 1
    assert sent["target"] == receiver.url and sent["finished_at"]
    [(headers, body)] = receiver.received  # the status change is not among the chosen kinds
    payload = await _json(body)
    assert payload["title"] == "问题“楼道灯坏了”有新回复" and payload["person_id"] == alice.id
    assert payload["id"] == sent["notification_id"]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Linli-Signature"] == expected
    # the inbox still has both (the status change arrives through a consumer of its own)
    await eventually(lambda: _inbox_of(notify, alice, 2))
    log = await ok(await notify.get(f"/v1/compounds/{cid}/deliveries", headers=staff.headers))
    assert [d["id"] for d in log["items"]] == [sent["id"]] and log["items"][0]["target"] is None
    await assert_problem(await notify.get(f"/v1/compounds/{cid}/deliveries",
                                          headers=resident.headers), 403, "forbidden")


async def _inbox_of(notify: Any, who: Person, n: int) -> bool:
    return len(await inbox(notify, who)) == n


async def _json(body: bytes) -> dict[str, Any]:
    import json

    result: dict[str, Any] = json.loads(body)
    return result


async def test_a_failing_receiver_is_retried_with_backoff_then_marked_failed(
    people: People, publisher: Publisher, start_notify: NotifyFactory, receiver: Receiver,
) -> None:
    receiver.status = 500
    notify = await start_notify()  # 3 attempts, 0.2 s then 0.4 s apart
    cid = str(uuid.uuid4())
    alice = people(cid)
    await ok(await notify.put("/v1/me/preferences", headers=alice.headers,
                              json={"webhook_url": receiver.url, "kinds": ["issue_commented"]}))
    await comment_on_new_issue(publisher, cid, alice.id)
    [failed] = await eventually(lambda: my_deliveries(notify, alice, 1, "failed"))
    assert failed["attempts"] == 3 and failed["last_error"] == NOT_RECEIVED  # not "HTTP 500"
    assert len(receiver.received) == 3
    await assert_problem(await notify.get("/v1/me/deliveries?status=lost", headers=alice.headers),
                         422, "validation-error")


async def test_quiet_hours_hold_a_delivery_until_they_end(
    people: People, publisher: Publisher, start_notify: NotifyFactory, receiver: Receiver,
) -> None:
    notify = await start_notify()
    cid = str(uuid.uuid4())
    alice = people(cid)
    now = dt.datetime.now(CST)
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)
    await ok(await notify.put("/v1/me/preferences", headers=alice.headers, json={
        "webhook_url": receiver.url, "quiet_start": f"{start:%H:%M}", "quiet_end": f"{end:%H:%M}"}))
    await comment_on_new_issue(publisher, cid, alice.id)
    held = await eventually(lambda: my_deliveries(notify, alice, 2, "pending"))
    for d in held:
        waits = dt.datetime.fromisoformat(d["next_attempt_at"]) - dt.datetime.now(dt.UTC)
        assert dt.timedelta(minutes=55) < waits <= dt.timedelta(hours=1)
    assert receiver.received == [] and len(await inbox(notify, alice)) == 2


async def test_bad_preferences_are_problems_and_change_nothing(
    people: People, start_notify: NotifyFactory,
) -> None:
    notify = await start_notify()
    alice = people(str(uuid.uuid4()))
    default = await ok(await notify.get("/v1/me/preferences", headers=alice.headers))
    assert default["in_app"] is True and default["webhook_url"] is None
    good = {"webhook_url": "https://im.example.cn/hook/abc", "kinds": ["vote_opened"],
            "quiet_start": "22:00", "quiet_end": "07:00"}
    saved = await ok(await notify.put("/v1/me/preferences", headers=alice.headers, json=good))
    assert saved["quiet_start"] == "22:00" and saved["kinds"] == ["vote_opened"]
    bad = [
        {**good, "webhook_url": "ftp://example.cn/x"},
        {**good, "webhook_url": "not a url"},
        {**good, "kinds": ["no_such_kind"]},
        {**good, "quiet_end": None},
        {**good, "quiet_start": "25:00"},
        {**good, "quiet_end": "22:00"},
        {**good, "webhook_secret": "short"},
        {"kinds": [], "webhook_secret": SECRET},
        {**good, "channel": "sms"},
        {**good, "kinds": "vote_opened"},
    ]
    for body in bad:
        r = await notify.put("/v1/me/preferences", headers=alice.headers, json=body)
        await assert_problem(r, 422, "validation-error")
    r = await notify.put("/v1/me/preferences", data=b"{oops",
                         headers={**alice.headers, "Content-Type": "application/json"})
    await assert_problem(r, 400, "malformed-json")
    after = await ok(await notify.get("/v1/me/preferences", headers=alice.headers))
    assert after == saved


async def test_a_compound_overrides_a_template_and_bad_ones_are_refused(
    people: People, publisher: Publisher, start_notify: NotifyFactory,
) -> None:
    notify = await start_notify()
    cid = str(uuid.uuid4())
    community, resident, alice = people(cid, "community"), people(cid), people(cid)
    other = people(str(uuid.uuid4()), "community")
    url = f"/v1/compounds/{cid}/notification-templates"
    listed = (await ok(await notify.get(url, headers=community.headers)))["items"]
    commented = next(t for t in listed if t["kind"] == "issue_commented")
    assert commented["custom"] is False and commented["placeholders"] == ["title", "who"]
    mine = {"title": "【阳光花园】{title} 有回复", "body": "{who}回复了您，请打开小程序查看。"}
    for body, status, kind in [
        ({**mine, "body": "{who}回复了{reporter}"}, 422, "validation-error"),
        ({**mine, "title": "{titel}"}, 422, "validation-error"),
        ({**mine, "title": ""}, 422, "validation-error"),
        ({**mine, "extra": 1}, 422, "validation-error"),
    ]:
        await assert_problem(await notify.put(f"{url}/issue_commented", json=body,
                                              headers=community.headers), status, kind)
    await assert_problem(await notify.put(f"{url}/no_such_kind", json=mine,
                                          headers=community.headers), 404, "not-found")
    await assert_problem(await notify.put(f"{url}/issue_commented", json=mine,
                                          headers=resident.headers), 403, "forbidden")
    await assert_problem(await notify.put(f"{url}/issue_commented", json=mine,
                                          headers=other.headers), 403, "forbidden")
    unchanged = (await ok(await notify.get(url, headers=community.headers)))["items"]
    assert not any(t["custom"] for t in unchanged)
    saved = await ok(await notify.put(f"{url}/issue_commented", json=mine, headers=community.headers))
    assert saved["custom"] is True and saved["updated_by"] == community.id
    await comment_on_new_issue(publisher, cid, alice.id, "电梯异响")
    items = await eventually(lambda: _kind(notify, alice, "issue_commented"))
    assert items["title"] == "【阳光花园】电梯异响 有回复"
    assert items["body"] == "工作人员回复了您，请打开小程序查看。"
    reset = await ok(await notify.delete(f"{url}/issue_commented", headers=community.headers))
    assert reset["custom"] is False and reset["title"] == commented["title"]


async def _kind(notify: Any, who: Person, kind: str) -> dict[str, Any] | None:
    return next((i for i in await inbox(notify, who) if i["kind"] == kind), None)


async def test_two_replicas_share_the_work_and_send_each_delivery_once(
    people: People, publisher: Publisher, start_notify: NotifyFactory, receiver: Receiver,
) -> None:
    first = await start_notify()
    second = await start_notify(replica_of=first)
    cid = str(uuid.uuid4())
    alice = people(cid)
    await ok(await first.put("/v1/me/preferences", headers=alice.headers,
                             json={"webhook_url": receiver.url, "kinds": ["issue_commented"]}))
    commented = f"{first.app[PREFIX]}-issue-commented"

    def applied() -> list[int]:
        return [app.app[CONSUMERS].applied[commented] for app in (first, second)]

    issues = 0
    # which replica's pull a message reaches is up to NATS: publish rounds of ten comments
    # until both replicas have applied some (one left idle fails), then check nothing twice
    while issues == 0 or not all(applied()):
        assert issues < 50, f"one replica applied every comment ({applied()}): no sharing"
        for _ in range(10):
            await comment_on_new_issue(publisher, cid, alice.id, f"问题{issues}")
            issues += 1
        await eventually(lambda n=issues: sum(applied()) == n)
    sent = await eventually(lambda: my_deliveries(second, alice, issues, "sent"), within=60)
    assert len(sent) == issues and all(d["attempts"] == 1 for d in sent)
    ids = [h["X-Linli-Delivery"] for h, _ in receiver.received]
    assert sorted(ids) == sorted(d["id"] for d in sent)  # each exactly once
    await eventually(lambda: _inbox_of(notify=first, who=alice, n=2 * issues))  # + status changes
    assert sum(applied()) == issues


async def test_a_notice_board_post_reaches_the_webhooks_following_that_board(
    people: People, publisher: Publisher, start_notify: NotifyFactory, receiver: Receiver,
) -> None:
    notify = await start_notify()
    cid, elsewhere = str(uuid.uuid4()), str(uuid.uuid4())
    property_system, outsider = people(cid, "property"), people(elsewhere)
    saved = await ok(await notify.put("/v1/me/preferences", headers=property_system.headers,
                                      json={"webhook_url": receiver.url, "kinds": ["bills_issued"]}))
    assert saved["notice_boards"] == [cid]
    await ok(await notify.put("/v1/me/preferences", headers=outsider.headers,
                              json={"webhook_url": receiver.url}))
    for period in ("2026-10", "2026-11"):
        await publisher.emit(meeting_events.BILLS_ISSUED, meeting_events.BillsIssued(
            cost_id=uuid.uuid4(), bill_id=uuid.uuid4(), plan_id=uuid.uuid4(),
            compound_id=uuid.UUID(cid), period=period, total_fen=50_000, units=25,
            name="电梯电费"),
            subject=str(uuid.uuid4()), compound_id=cid)
    await publisher.emit(meeting_events.MINUTES_PUBLISHED, meeting_events.MinutesPublished(
        meeting_id=uuid.uuid4(), compound_id=uuid.UUID(cid), title="议事会", published_at="",
        notice_until=""), subject=str(uuid.uuid4()), compound_id=cid)
    sent = await eventually(lambda: my_deliveries(notify, property_system, 2, "sent"))
    assert all(d["notice_id"] and d["notification_id"] is None for d in sent)
    # the minutes arrive through a consumer of their own: wait for the board to show all three
    board = await eventually(lambda: _board_of(notify, cid, property_system, 3))
    assert sorted(n["kind"] for n in board) == ["bills_issued", "bills_issued",
                                                "minutes_published"]  # minutes not pushed
    payloads = sorted([await _json(body) for _, body in receiver.received],
                      key=lambda p: str(p["title"]))
    assert [p["title"] for p in payloads] == ["电梯电费 2026-10 分摊账单已出具",
                                              "电梯电费 2026-11 分摊账单已出具"]
    assert all(p["audience"] == "compound" and p["compound_id"] == cid for p in payloads)
    assert await my_deliveries(notify, outsider, 1) is None


async def _board_of(notify: Any, cid: str, who: Person, n: int) -> list[dict[str, Any]] | None:
    page = await ok(await notify.get(f"/v1/compounds/{cid}/notices", headers=who.headers))
    return list(page["items"]) if len(page["items"]) == n else None
