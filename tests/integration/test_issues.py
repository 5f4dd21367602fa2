"""Issues over HTTP against the real PostgreSQL and NATS, with the directory beside it."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from linli.config import Settings
from linli.http import POOL
from services.directory.app import create_app as directory_app
from services.issues.app import create_app as issues_app
from tests.conftest import (
    AppFactory,
    TokenFactory,
    all_pages,
    assert_bad_limit,
    assert_problem,
    bearer,
)

Headers = dict[str, str]


@dataclass
class World:
    """A fresh compound in the directory with one unit, and the issues service."""

    issues: TestClient
    directory: TestClient
    cid: str
    unit: str
    token: TokenFactory

    def person(self, *roles: str, person: str | None = None) -> Headers:
        return bearer(self.token(roles=list(roles or ["resident"]), compounds=[self.cid],
                                 person=person or str(uuid.uuid4())))

    @property
    def base(self) -> str:
        return f"/v1/compounds/{self.cid}"


@pytest.fixture
async def world(serve: AppFactory, settings: Settings, token: TokenFactory) -> World:
    directory = await serve(directory_app, port=settings.port("directory"))
    street = bearer(token(roles=["street_office"], compounds=["*"]))
    cid = (await ok(await directory.post("/v1/compounds", json={
        "name": "阳光花园", "community": "万安社区", "street": "万安街道"}, headers=street)))["id"]
    b = (await ok(await directory.post(f"/v1/compounds/{cid}/buildings",
                                       json={"name": "1号楼", "floors": 6}, headers=street)))["id"]
    unit = (await ok(await directory.post(f"/v1/compounds/{cid}/units", json={
        "building_id": b, "floor": 6, "number": "601", "area": "89.50", "status": "delivered"},
        headers=street)))["id"]
    return World(await serve(issues_app), directory, cid, unit, token)


async def ok(response: Any, status: int = 201) -> Any:
    assert response.status == status, await response.text()
    return await response.json()




def issue_body(**changes: Any) -> dict[str, Any]:
    return {"category": "repair", "title": "6楼顶层楼道灯坏了",
            "description": "1号楼6楼楼道灯不亮一周了，晚上上下楼很危险。", "area": "corridor",
            **changes}


async def report(w: World, headers: Headers, **changes: Any) -> dict[str, Any]:
    return await ok(await w.issues.post(f"{w.base}/issues", json=issue_body(**changes),
                                        headers=headers))


async def events_of(w: World, issue_id: str) -> list[str]:
    """The event types the outbox holds for one issue, in order."""
    assert w.issues.app is not None
    rows = await w.issues.app[POOL].fetch(
        "SELECT subject FROM outbox WHERE position($1::bytea in payload) > 0"
        " ORDER BY created_at, id", issue_id.encode())
    return [r["subject"].rsplit(".", 1)[-1] for r in rows]


async def step(w: World, issue_id: str, headers: Headers, status: int = 200,
               **body: Any) -> Any:
    r = await w.issues.post(f"{w.base}/issues/{issue_id}/status", json=body, headers=headers)
    return await ok(r, status) if status < 400 else r


async def test_report_validates_the_unit_and_hides_anonymous_reporters(world: World) -> None:
    w = world
    categories = await ok(await w.issues.get(f"{w.base}/issue-categories", headers=w.person()), 200)
    by_code = {c["code"]: c for c in categories["items"]}
    assert by_code["repair"]["responsible"] == "property"
    assert by_code["common_funds"]["responsible"] == "owners_committee"
    assert by_code["neighbour"]["responsible"] == "community"
    assert by_code["cross_compound"]["responsible"] == "street_office"
    alice_id = str(uuid.uuid4())
    alice = w.person(person=alice_id)
    mine = await report(w, alice, unit_id=w.unit, area=None, anonymous=True,
                        photos=["https://img.example.cn/a.jpg"])
    assert mine["status"] == "submitted" and mine["reporter_id"] == alice_id
    assert mine["responsible"] == "property" and mine["respond_by"] < mine["resolve_by"]
    seen = await ok(await w.issues.get(f"{w.base}/issues/{mine['id']}", headers=w.person()), 200)
    assert seen["reporter_id"] is None and seen["anonymous"] is True
    staff = await ok(await w.issues.get(f"{w.base}/issues/{mine['id']}",
                                        headers=w.person("property")), 200)
    assert staff["reporter_id"] == alice_id
    phoned = await report(w, w.person("community"), on_behalf_of={"name": "王阿姨"})
    assert phoned["on_behalf"] is True and phoned["channel"] == "staff"
    await assert_problem(await w.issues.post(f"{w.base}/issues", headers=alice, json=issue_body(
        on_behalf_of={"name": "王阿姨"})), 403, "forbidden")
    listing = await ok(await w.issues.get(f"{w.base}/issues?limit=1", headers=w.person()), 200)
    assert len(listing["items"]) == 1 and listing["next_cursor"]
    rest = await ok(await w.issues.get(f"{w.base}/issues?limit=5&cursor={listing['next_cursor']}",
                                       headers=w.person()), 200)
    assert {i["id"] for i in listing["items"] + rest["items"]} == {mine["id"], phoned["id"]}
    assert await events_of(w, mine["id"]) == ["reported"]


async def test_bad_input_is_a_problem_and_writes_nothing(world: World) -> None:
    w = world
    alice = w.person()
    url = f"{w.base}/issues"
    cases = [
        (issue_body(category="no_such"), 422, "validation-error"),
        (issue_body(unit_id=str(uuid.uuid4()), area=None), 422, "validation-error"),
        (issue_body(unit_id=w.unit), 422, "validation-error"),  # both a unit and an area
        (issue_body(area=None), 422, "validation-error"),  # neither
        (issue_body(description=""), 422, "validation-error"),
        (issue_body(description="   "), 422, "validation-error"),
        (issue_body(title="长" * 101), 422, "validation-error"),
        (issue_body(photos=["ftp://x"]), 422, "validation-error"),
        (issue_body(category="lift", area="lift"), 422, "validation-error"),  # unanswered question
        (issue_body(unexpected=1), 422, "validation-error"),
    ]
    for body, status, kind in cases:
        await assert_problem(await w.issues.post(url, json=body, headers=alice), status, kind)
    foreign = bearer(w.token(roles=["resident"], compounds=[str(uuid.uuid4())]))
    await assert_problem(await w.issues.post(url, json=issue_body(), headers=foreign), 403,
                         "forbidden")
    await assert_problem(await w.issues.post(url, json=issue_body()), 401, "unauthorized")
    listing = await ok(await w.issues.get(url, headers=w.person("community")), 200)
    assert listing["items"] == []
    lift = await report(w, alice, category="lift", area="lift", attributes={"trapped": "yes"})
    assert lift["attributes"] == {"trapped": "yes"}


async def test_status_flow_is_validated_attributed_and_published(world: World) -> None:
    w = world
    reporter_id = str(uuid.uuid4())
    reporter = w.person(person=reporter_id)
    issue = await report(w, reporter)
    iid = issue["id"]
    await assert_problem(await step(w, iid, reporter, 403, to="accepted"), 403, "forbidden")
    # the owners' committee is not responsible for a repair
    await assert_problem(await step(w, iid, w.person("owners_committee"), 403, to="accepted"),
                         403, "forbidden")
    prop = w.person("property")
    await assert_problem(await step(w, iid, prop, 409, to="resolved"), 409, "illegal-transition")
    accepted = await step(w, iid, prop, to="accepted", template="received")
    assert accepted["status"] == "accepted" and accepted["first_response_at"]
    assert accepted["status_note"].startswith("您好")
    await step(w, iid, prop, to="in_progress", note="已派电工")
    resolved = await step(w, iid, prop, to="resolved", note="已更换灯泡")
    assert resolved["resolved_at"]
    await assert_problem(await step(w, iid, prop, 409, to="rejected", reason="x"), 409,
                         "illegal-transition")
    reopened = await ok(await w.issues.post(f"{w.base}/issues/{iid}/reopen",
                                            json={"reason": "又不亮了"}, headers=reporter), 200)
    assert reopened["status"] == "in_progress" and reopened["resolved_at"] is None
    await assert_problem(await w.issues.post(f"{w.base}/issues/{iid}/reopen", json={
        "reason": "x"}, headers=w.person()), 403, "forbidden")
    await step(w, iid, prop, to="resolved")
    await assert_problem(await w.issues.post(f"{w.base}/issues/{iid}/feedback", json={
        "score": 1, "fixed": False}, headers=w.person()), 403, "forbidden")
    unhappy = await ok(await w.issues.post(f"{w.base}/issues/{iid}/feedback", json={
        "score": 2, "fixed": False, "comment": "还是闪"}, headers=reporter))
    assert unhappy["reopened"] is True
    again = await ok(await w.issues.get(f"{w.base}/issues/{iid}", headers=reporter), 200)
    assert again["status"] == "in_progress"
    await step(w, iid, prop, to="resolved")
    happy = await ok(await w.issues.post(f"{w.base}/issues/{iid}/feedback", json={
        "score": 5, "fixed": True}, headers=reporter))
    assert happy["reopened"] is False and happy["round"] == 3
    await assert_problem(await w.issues.post(f"{w.base}/issues/{iid}/feedback", json={
        "score": 5, "fixed": True}, headers=reporter), 409, "already-rated")
    stats = await ok(await w.issues.get(f"{w.base}/issue-stats", headers=reporter), 200)
    assert stats["satisfaction_average"] == 3.5
    history = await ok(await w.issues.get(f"{w.base}/issues/{iid}/history", headers=reporter), 200)
    assert [h["to_status"] for h in history["items"] if h["action"] == "status"] == [
        "accepted", "in_progress", "resolved", "resolved", "resolved"]
    assert all(h["actor"] for h in history["items"])
    assert await events_of(w, iid) == [
        "reported", "status_changed", "accepted", "status_changed", "status_changed", "resolved",
        "status_changed", "reopened", "status_changed", "resolved", "status_changed", "reopened",
        "status_changed", "resolved"]


async def test_reject_needs_a_reason_and_duplicate_an_original(world: World) -> None:
    w = world
    prop = w.person("property")
    first, second, third = [await report(w, w.person()) for _ in range(3)]
    await assert_problem(await step(w, second["id"], prop, 422, to="rejected"), 422,
                         "validation-error")
    rejected = await step(w, second["id"], prop, to="rejected", reason="属于业主自家维修")
    assert rejected["status"] == "rejected" and rejected["status_note"] == "属于业主自家维修"
    await assert_problem(await step(w, third["id"], prop, 422, to="duplicate",
                                    duplicate_of=third["id"]), 422, "validation-error")
    await assert_problem(await step(w, third["id"], prop, 422, to="duplicate",
                                    duplicate_of=str(uuid.uuid4())), 422, "validation-error")
    dup = await step(w, third["id"], prop, to="duplicate", duplicate_of=first["id"])
    assert dup["duplicate_of"] == first["id"]
    await assert_problem(await w.issues.post(f"{w.base}/issues/{second['id']}/cosign",
                                             headers=w.person()), 409, "issue-closed")


async def test_two_staff_resolving_at_once_one_wins(world: World) -> None:
    w = world
    issue = await report(w, w.person())
    await step(w, issue["id"], w.person("property"), to="accepted")
    answers = await asyncio.gather(*(w.issues.post(
        f"{w.base}/issues/{issue['id']}/status", json={"to": "resolved"},
        headers=w.person(role)) for role in ("property", "community")))
    assert sorted(r.status for r in answers) == [200, 409]
    assert (await events_of(w, issue["id"])).count("resolved") == 1


async def test_custom_category_routes_to_its_party(world: World) -> None:
    w = world
    url = f"{w.base}/issue-categories/pump_power"
    body = {"name": "水泵电费分摊", "responsible": "owners_committee", "respond_hours": 48,
            "resolve_hours": 240, "attributes": [{"code": "meter", "description": "电表编号"}]}
    await assert_problem(await w.issues.put(url, json=body, headers=w.person()), 403, "forbidden")
    await assert_problem(await w.issues.put(f"{w.base}/issue-categories/Bad-Code", json=body,
                                            headers=w.person("community")), 422, "validation-error")
    await assert_problem(await w.issues.put(url, json={**body, "resolve_hours": 24},
                                            headers=w.person("community")), 422, "validation-error")
    made = await ok(await w.issues.put(url, json=body, headers=w.person("community")), 200)
    assert made["responsible_label"] == "业主委员会"
    issue = await report(w, w.person(), category="pump_power", area="pump_room",
                         attributes={"meter": "A-17"})
    assert issue["responsible"] == "owners_committee"
    hours = (dt.datetime.fromisoformat(issue["resolve_by"])
             - dt.datetime.fromisoformat(issue["created_at"]))
    assert hours == dt.timedelta(hours=240)
    await assert_problem(await w.issues.put(f"{w.base}/issue-settings", json={
        "cosign_threshold": 0, "reopen_window_hours": 24}, headers=w.person("community")),
        422, "validation-error")
    metrics = await (await w.issues.get("/metrics")).text()
    assert 'linli_issues_reported_total{category="custom"}' in metrics
    assert "pump_power" not in metrics


async def test_a_report_follows_its_category_as_it_is_now(world: World) -> None:
    """The service remembers the category a report was checked against; a change made since
    (here behind its back, as another replica would) is what the next report follows."""
    w = world
    url = f"{w.base}/issue-categories/pump_power"
    body = {"name": "水泵电费分摊", "responsible": "owners_committee", "respond_hours": 48,
            "resolve_hours": 240, "attributes": [{"code": "meter", "description": "电表编号"}]}
    await ok(await w.issues.put(url, json=body, headers=w.person("community")), 200)
    pump = {"category": "pump_power", "area": "pump_room"}
    first = await report(w, w.person(), **pump, attributes={"meter": "A-17"})
    assert first["responsible"] == "owners_committee"
    assert w.issues.app is not None
    pool = w.issues.app[POOL]

    async def change(sql: str) -> None:
        await pool.execute(f"UPDATE categories SET {sql} WHERE compound_id = $1"
                           " AND code = 'pump_power'", uuid.UUID(w.cid))

    await change("responsible = 'property', resolve_hours = 72")
    moved = await report(w, w.person(), **pump)
    assert moved["responsible"] == "property"
    assert (dt.datetime.fromisoformat(moved["resolve_by"])
            - dt.datetime.fromisoformat(moved["created_at"])) == dt.timedelta(hours=72)
    await change("""attributes = '[{"code": "floor", "description": "楼层", "required": true}]'""")
    await assert_problem(await w.issues.post(f"{w.base}/issues", json=issue_body(**pump),
                                             headers=w.person()), 422, "validation-error")
    asked = await report(w, w.person(), **pump, attributes={"floor": "B1"})
    assert asked["attributes"] == {"floor": "B1"}
    await change("active = false")
    await assert_problem(await w.issues.post(f"{w.base}/issues", json=issue_body(
        **pump, attributes={"floor": "B1"}), headers=w.person()), 422, "validation-error")
    count = await pool.fetchval("SELECT count(*) FROM issues WHERE compound_id = $1",
                                uuid.UUID(w.cid))
    assert count == 3


async def test_history_and_comments_keep_an_anonymous_reporter_hidden(world: World) -> None:
    w = world
    alice_id = str(uuid.uuid4())
    alice = w.person(person=alice_id)
    mine = await report(w, alice, anonymous=True)
    url = f"{w.base}/issues/{mine['id']}"
    await ok(await w.issues.post(f"{url}/comments", json={"body": "还是不亮"}, headers=alice))
    neighbour, staff = w.person(), w.person("property")
    await ok(await w.issues.post(f"{url}/comments", json={"body": "已派人"}, headers=staff))
    for who, expected in ((neighbour, None), (staff, alice_id), (alice, alice_id)):
        history = (await ok(await w.issues.get(f"{url}/history", headers=who), 200))["items"]
        assert history[0]["action"] == "reported" and history[0]["actor"] == expected
        comments = (await ok(await w.issues.get(f"{url}/comments", headers=who), 200))["items"]
        assert comments[0]["author_id"] == expected and comments[1]["author_id"] != alice_id
    named = await report(w, alice)
    history = await ok(await w.issues.get(f"{w.base}/issues/{named['id']}/history",
                                          headers=neighbour), 200)
    assert history["items"][0]["actor"] == alice_id


async def test_the_desk_queue_filters_by_responsible_party_overdue_and_words(world: World) -> None:
    w = world
    staff = w.person("community")
    await ok(await w.issues.put(f"{w.base}/issue-categories/pump_power", json={
        "name": "水泵电费分摊", "responsible": "owners_committee", "respond_hours": 48,
        "resolve_hours": 240}, headers=staff), 200)
    repair = await report(w, w.person(), title="楼道灯不亮")
    late = await report(w, w.person(), title="楼道灯又不亮")
    pump = await report(w, w.person(), category="pump_power", area="pump_room")
    assert w.issues.app is not None
    await w.issues.app[POOL].execute(  # the first-response target passed an hour ago
        "UPDATE issues SET respond_by = now() - interval '1 hour' WHERE id = $1", uuid.UUID(late["id"]))

    async def ids(query: str) -> set[str]:
        page = await ok(await w.issues.get(f"{w.base}/issues?{query}", headers=staff), 200)
        return {i["id"] for i in page["items"]}

    assert await ids("responsible=owners_committee") == {pump["id"]}
    assert await ids("responsible=property") == {repair["id"], late["id"]}
    assert await ids("overdue=true") == {late["id"]}
    assert await ids("overdue=false&responsible=property") == {repair["id"]}
    assert await ids("q=又不亮") == {late["id"]}
    assert await ids("q=100%25") == set()  # % is a character to find, not a wildcard
    assert await ids("q=楼道灯&responsible=property") == {repair["id"], late["id"]}
    await assert_problem(await w.issues.get(f"{w.base}/issues?responsible=nobody", headers=staff),
                         422, "validation-error")


async def test_every_filter_with_a_cursor_pages_the_same_issues(world: World) -> None:
    """The list's SQL holds only the filters given: each combination, with and without a
    cursor, pages through exactly the issues it names, newest first, none twice."""
    w = world
    alice, staff = w.person(person=str(uuid.uuid4())), w.person("property")
    hers = [await report(w, alice, title=f"楼道灯不亮{n}") for n in range(5)]
    lift = [await report(w, alice, category="lift", area="lift", attributes={"trapped": "no"})
            for _ in range(2)]
    others = [await report(w, w.person()) for _ in range(3)]
    for issue in hers[:3]:
        await step(w, issue["id"], staff, to="accepted")

    async def paged(params: dict[str, str], who: Headers = staff) -> list[str]:
        pages = await all_pages(w.issues, f"{w.base}/issues", who, limit=2, params=params)
        return [i["id"] for page in pages for i in page]

    def newest_first(issues: list[dict[str, Any]]) -> list[str]:
        return [i["id"] for i in reversed(issues)]

    assert await paged({}) == newest_first(hers + lift + others)
    assert await paged({"mine": "true"}, alice) == newest_first(hers + lift)
    assert await paged({"status": "accepted"}) == newest_first(hers[:3])
    assert await paged({"category": "lift", "mine": "true"}, alice) == newest_first(lift)
    assert await paged({"status": "submitted", "category": "repair", "mine": "true",
                        "responsible": "property", "overdue": "false", "q": "楼道灯不亮"},
                       alice) == newest_first(hers[3:])
    assert await paged({"status": "resolved"}) == []


async def test_comments_and_history_page_in_order_with_no_gap(world: World) -> None:
    w = world
    alice, staff = w.person(), w.person("property")
    issue = await report(w, alice)
    url = f"{w.base}/issues/{issue['id']}"
    said = [f"第{n}条留言" for n in range(7)]
    for body in said:
        await ok(await w.issues.post(f"{url}/comments", json={"body": body}, headers=alice))
    for to in ("accepted", "in_progress", "resolved"):
        await step(w, issue["id"], staff, to=to)
    pages = await all_pages(w.issues, f"{url}/comments", alice, limit=3)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [c["body"] for p in pages for c in p] == said
    pages = await all_pages(w.issues, f"{url}/history", alice, limit=2)
    steps = [h["to_status"] for p in pages for h in p if h["action"] == "status"]
    assert steps == ["accepted", "in_progress", "resolved"]
    assert [p[0]["action"] for p in pages][:1] == ["reported"]
    for path in ("comments", "history"):
        await assert_bad_limit(w.issues, f"{url}/{path}", alice)
    categories = await ok(await w.issues.get(f"{w.base}/issue-categories", headers=alice), 200)
    assert categories["next_cursor"] is None and categories["items"]


async def test_a_comment_retried_with_its_idempotency_key_is_posted_once(world: World) -> None:
    """The desk's progress note sent again after a lost answer (the README's creating POSTs
    take `Idempotency-Key`): the first answer comes back, the issue has one comment and one
    event, and the key with another text is refused without writing."""
    w = world
    alice, staff = w.person(), w.person("property")
    issue = await report(w, alice)
    url = f"{w.base}/issues/{issue['id']}/comments"
    key = {"Idempotency-Key": f"comment-{uuid.uuid4()}"}
    body = {"body": "已派电工今天下午上门更换灯管"}

    first = await w.issues.post(url, json=body, headers=staff | key)
    again = await w.issues.post(url, json=body, headers=staff | key)
    assert (first.status, again.status) == (201, 201)
    assert again.headers.get("Idempotent-Replayed") == "true"
    posted = await first.json()
    assert (await again.json())["id"] == posted["id"]

    await assert_problem(await w.issues.post(url, json={"body": "改为明天上门"},
                                             headers=staff | key), 422, "validation-error")
    comments = (await ok(await w.issues.get(url, headers=alice), 200))["items"]
    assert [c["id"] for c in comments] == [posted["id"]]
    assert (await events_of(w, issue["id"])).count("commented") == 1
