"""Notify over HTTP against the real PostgreSQL and NATS: events from the issues service (its
real API and outbox) and from a scratch outbox fill the inbox of the people concerned."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import pytest
from aiohttp.test_utils import TestClient

from linli import metrics
from linli.config import Settings
from services.directory.app import create_app as directory_app
from services.issues import events as issue_events
from services.issues.app import create_app as issues_app
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer, eventually
from tests.integration.test_notify_support import (
    NotifyFactory,
    People,
    Publisher,
    inbox,
    nats_js,
    ok,
    publisher,
    start_notify,
)

__all__ = ["nats_js", "publisher", "start_notify"]  # fixtures


@pytest.fixture
def people(token: TokenFactory) -> People:
    return People(token)


async def new_compound(directory: TestClient, token: TokenFactory) -> str:
    street = bearer(token(roles=["street_office"], compounds=["*"]))
    c = await ok(await directory.post("/v1/compounds", json={
        "name": f"阳光花园{uuid.uuid4().hex[:6]}", "community": "万安社区", "street": "万安街道"},
        headers=street), 201)
    return str(c["id"])


async def test_an_issue_worked_through_the_issues_api_reaches_its_reporter(
    serve: AppFactory, settings: Settings, token: TokenFactory, people: People,
    start_notify: NotifyFactory,
) -> None:
    directory = await serve(directory_app, port=settings.port("directory"))
    issues = await serve(issues_app)
    notify = await start_notify()
    cid = await new_compound(directory, token)
    base = f"/v1/compounds/{cid}/issues"
    alice, bob, prop = people(cid), people(cid), people(cid, "property")
    issue = await ok(await issues.post(base, headers=alice.headers, json={
        "category": "repair", "title": "6楼楼道灯坏了", "description": "晚上上下楼很危险。",
        "area": "corridor"}), 201)
    iid = issue["id"]
    await ok(await issues.post(f"{base}/{iid}/status", json={"to": "accepted"}, headers=prop.headers))
    await ok(await issues.post(f"{base}/{iid}/comments", json={"body": "电工明天上午到"},
                               headers=prop.headers), 201)
    await ok(await issues.post(f"{base}/{iid}/status", json={"to": "resolved", "note": "已更换灯泡"},
                               headers=prop.headers))
    items = await eventually(lambda: _at_least(notify, alice, 3))
    by_kind = {i["kind"]: i for i in items}
    assert set(by_kind) == {"issue_status_changed", "issue_commented", "issue_resolved"}
    assert by_kind["issue_status_changed"]["title"] == "您反映的问题“6楼楼道灯坏了”已受理"
    assert "已更换灯泡" in by_kind["issue_resolved"]["body"]
    assert by_kind["issue_commented"]["body"].startswith("工作人员")
    assert all(i["subject"] == iid and i["compound_id"] == cid and i["read_at"] is None
               for i in items)
    # nobody else hears about Alice's issue; apps have no inbox
    assert await inbox(notify, bob) == [] and await inbox(notify, prop) == []
    app = bearer(token(app="issues", scopes=["issues:manage"], compounds=["*"]))
    await assert_problem(await notify.get("/v1/me/inbox", headers=app), 403, "forbidden")


async def _at_least(notify: TestClient, who: Any, n: int) -> list[dict[str, Any]] | None:
    items = await inbox(notify, who)
    return items if len(items) >= n else None


async def test_reading_the_inbox(publisher: Publisher, people: People,
                                 start_notify: NotifyFactory) -> None:
    notify = await start_notify()
    cid = str(uuid.uuid4())
    alice, bob = people(cid), people(cid)
    for n in range(3):
        await _reported_and_commented(publisher, cid, alice.id, f"问题{n}")
    items = await eventually(lambda: _at_least(notify, alice, 3))
    assert sorted(i["title"] for i in items) == [f"问题“问题{n}”有新回复" for n in range(3)]
    assert [i["created_at"] for i in items] == sorted((i["created_at"] for i in items), reverse=True)
    first = await ok(await notify.get("/v1/me/inbox?limit=2", headers=alice.headers))
    rest = await ok(await notify.get(f"/v1/me/inbox?limit=2&cursor={first['next_cursor']}",
                                     headers=alice.headers))
    assert [i["id"] for i in first["items"] + rest["items"]] == [i["id"] for i in items]
    assert rest["next_cursor"] is None
    # Bob cannot read (or even find) Alice's notification
    await assert_problem(await notify.post(f"/v1/me/inbox/{items[0]['id']}/read",
                                           headers=bob.headers), 404, "not-found")
    read = await ok(await notify.post(f"/v1/me/inbox/{items[0]['id']}/read", headers=alice.headers))
    assert read["read_at"] is not None
    unread = await inbox(notify, alice, "?unread=true")
    assert [i["id"] for i in unread] == [i["id"] for i in items[1:]]
    marked = await ok(await notify.post("/v1/me/inbox/read-all", headers=alice.headers))
    assert marked == {"marked": 2}
    assert await inbox(notify, alice, "?unread=true") == []
    await assert_problem(await notify.get("/v1/me/inbox?limit=0", headers=alice.headers), 400,
                         "invalid-limit")
    await assert_problem(await notify.get("/v1/me/inbox?cursor=xyz", headers=alice.headers), 400,
                         "invalid-cursor")
    await assert_problem(await notify.get("/v1/me/inbox"), 401, "unauthorized")


async def _reported_and_commented(publisher: Publisher, cid: str, reporter: str,
                                  title: str) -> uuid.UUID:
    issue_id = uuid.uuid4()
    await publisher.emit(issue_events.ISSUE_REPORTED, issue_events.IssueReported(
        issue_id=issue_id, compound_id=uuid.UUID(cid), category="repair", title=title,
        responsible="property", reporter_id=reporter, area="corridor"),
        subject=str(issue_id), compound_id=cid)
    await publisher.emit(issue_events.ISSUE_COMMENTED, issue_events.IssueCommented(
        issue_id=issue_id, compound_id=uuid.UUID(cid), comment_id=uuid.uuid4(),
        author_id=str(uuid.uuid4()), official=True), subject=str(issue_id), compound_id=cid)
    return issue_id


async def test_openapi_and_metrics(start_notify: NotifyFactory, publisher: Publisher,
                                   people: People) -> None:
    notify = await start_notify()
    spec = await ok(await notify.get("/openapi.json"))
    assert {"/v1/me/inbox", "/v1/me/preferences", "/v1/compounds/{compound_id}/notices",
            "/v1/compounds/{compound_id}/deliveries"} <= set(spec["paths"])
    cid = str(uuid.uuid4())
    alice = people(cid)
    await _reported_and_commented(publisher, cid, alice.id, "电梯异响")
    await eventually(lambda: inbox(notify, alice))
    created = metrics.REGISTRY.get_sample_value(
        "linli_notify_notifications_total", {"kind": "issue_commented", "audience": "person"})
    assert created is not None and created >= 1
    text = await (await notify.get("/metrics")).text()
    for name in ("linli_notify_notifications_total", "linli_notify_deliveries_pending",
                 "# TYPE linli_notify_delivery_latency_seconds histogram"):
        assert name in text


async def test_a_week_old_event_replayed_from_the_stream_tells_nobody(
    publisher: Publisher, people: People, start_notify: NotifyFactory,
) -> None:
    notify = await start_notify()
    cid = str(uuid.uuid4())
    alice = people(cid)
    stale = metrics.REGISTRY.get_sample_value("linli_notify_events_skipped_total",
                                              {"reason": "stale"}) or 0.0
    issue_id = await _reported_and_commented(publisher, cid, alice.id, "去年的问题")
    await eventually(lambda: inbox(notify, alice))
    old = issue_events.ISSUE_COMMENTED.new(
        subject=str(issue_id), compound_id=cid, data=issue_events.IssueCommented(
            issue_id=issue_id, compound_id=uuid.UUID(cid), comment_id=uuid.uuid4(), official=True))
    old = msgspec.structs.replace(old, time="2026-01-02T03:04:05.000Z")
    await publisher.redeliver(old)
    await eventually(lambda: _skipped_more_than(stale))
    assert len(await inbox(notify, alice)) == 1


async def _skipped_more_than(before: float) -> bool:
    now = metrics.REGISTRY.get_sample_value("linli_notify_events_skipped_total", {"reason": "stale"})
    return (now or 0.0) > before


async def test_a_fresh_event_about_an_issue_reported_long_ago_reaches_its_reporter(
    publisher: Publisher, people: People, start_notify: NotifyFactory,
) -> None:
    """A fresh durable replays a month-old report: the reporter is still remembered, so
    today's comment on that issue reaches them (it is not redelivered until dead)."""
    notify = await start_notify()
    cid = str(uuid.uuid4())
    alice = people(cid)
    issue_id = uuid.uuid4()
    reported = issue_events.ISSUE_REPORTED.new(
        subject=str(issue_id), compound_id=cid, data=issue_events.IssueReported(
            issue_id=issue_id, compound_id=uuid.UUID(cid), category="repair", title="旧问题",
            responsible="property", reporter_id=alice.id, area="corridor"))
    await publisher.redeliver(msgspec.structs.replace(reported, time="2026-01-02T03:04:05.000Z"))
    await publisher.emit(issue_events.ISSUE_COMMENTED, issue_events.IssueCommented(
        issue_id=issue_id, compound_id=uuid.UUID(cid), comment_id=uuid.uuid4(),
        author_id=str(uuid.uuid4()), official=True), subject=str(issue_id), compound_id=cid)
    got = await eventually(lambda: inbox(notify, alice))
    assert [n["kind"] for n in got] == ["issue_commented"] and "旧问题" in got[0]["title"]
