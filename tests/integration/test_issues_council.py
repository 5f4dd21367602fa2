"""Co-signs under concurrency, escalation to the council, overdue sweep, statistics."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from linli.http import POOL
from services.issues import sweep
from tests.conftest import assert_problem, bearer
from tests.integration.test_issues import (
    World,
    events_of,
    ok,
    report,
    step,
    world,
)

__all__ = ["world"]


async def settings_threshold(w: World, threshold: int) -> None:
    await ok(await w.issues.put(f"{w.base}/issue-settings", json={
        "cosign_threshold": threshold, "reopen_window_hours": 72},
        headers=w.person("community")), 200)


async def test_fifty_people_cosign_at_once_count_fifty_and_escalate_once(world: World) -> None:
    w = world
    await settings_threshold(w, 30)
    issue = await report(w, w.person(), category="common_parts", area="roof",
                         title="顶楼夏天像蒸笼", description="屋顶没有隔热层，六楼夏天室内超过38度。")
    url = f"{w.base}/issues/{issue['id']}/cosign"
    answers = await asyncio.gather(*(w.issues.post(url, headers=w.person()) for _ in range(50)))
    assert [r.status for r in answers] == [201] * 50
    counts = sorted([(await r.json())["cosign_count"] for r in answers])
    assert counts == list(range(1, 51))
    got = await ok(await w.issues.get(f"{w.base}/issues/{issue['id']}", headers=w.person()), 200)
    assert got["cosign_count"] == 50 and got["escalation_reason"] == "cosign_threshold"
    kinds = await events_of(w, issue["id"])
    assert kinds.count("cosigned") == 50 and kinds.count("escalated") == 1
    await assert_problem(await w.issues.post(f"{w.base}/issues/{issue['id']}/escalate", json={
        "reason": "manual"}, headers=w.person("party_branch")), 409, "already-escalated")


async def test_one_person_cosigning_fifty_times_counts_once(world: World) -> None:
    w = world
    issue = await report(w, w.person())
    same = w.person()
    url = f"{w.base}/issues/{issue['id']}/cosign"
    answers = await asyncio.gather(*(w.issues.post(url, headers=same) for _ in range(50)))
    assert sorted(r.status for r in answers) == [201] + [409] * 49
    await assert_problem(await w.issues.post(url, headers=same), 409, "already-cosigned")
    got = await ok(await w.issues.get(f"{w.base}/issues/{issue['id']}", headers=same), 200)
    assert got["cosign_count"] == 1
    reporter_id = str(uuid.uuid4())
    own = await report(w, w.person(person=reporter_id))
    await assert_problem(await w.issues.post(f"{w.base}/issues/{own['id']}/cosign",
                                             headers=w.person(person=reporter_id)), 409, "own-issue")


async def test_manual_escalation_by_branch_committee_or_app_scope(world: World) -> None:
    w = world
    first, second, third = [await report(w, w.person()) for _ in range(3)]
    url = f"{w.base}/issues/{{}}/escalate"
    body = {"reason": "多次报修未果，提交议事会"}
    for role in ("resident", "property", "community"):
        await assert_problem(await w.issues.post(url.format(first["id"]), json=body,
                                                 headers=w.person(role)), 403, "forbidden")
    done = await ok(await w.issues.post(url.format(first["id"]), json=body,
                                        headers=w.person("party_branch")), 200)
    assert done["escalation_reason"] == "manual" and done["escalated_at"]
    await ok(await w.issues.post(url.format(second["id"]), json=body,
                                 headers=w.person("owners_committee")), 200)
    app = bearer(w.token(app="workflows", compounds=["*"], scopes=["issues:manage"]))
    wf = await ok(await w.issues.post(url.format(third["id"]), json={"reason": "overdue"},
                                      headers=app), 200)
    assert wf["escalation_reason"] == "overdue"
    await assert_problem(await w.issues.post(url.format(third["id"]), json={"reason": "overdue"},
                                             headers=app), 409, "already-escalated")
    wrong_scope = bearer(w.token(app="other", compounds=["*"], scopes=["meetings:manage"]))
    await assert_problem(await w.issues.post(url.format(third["id"]), json=body,
                                             headers=wrong_scope), 403, "forbidden")
    assert (await events_of(w, first["id"])).count("escalated") == 1


async def test_overdue_sweep_publishes_once_per_issue(world: World) -> None:
    w = world
    late = await report(w, w.person(), category="lift", area="lift",
                        attributes={"trapped": "no"})
    answered = await report(w, w.person(), category="greenery", area="green_space")
    await step(w, answered["id"], w.person("property"), to="accepted")
    assert w.issues.app is not None
    pool = w.issues.app[POOL]
    cid = uuid.UUID(w.cid)
    # two hours on: the lift issue (1 h to respond) is late, the accepted one is not
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    assert await sweep.sweep_overdue(pool, now=soon, compound_id=cid) == 1
    assert await sweep.sweep_overdue(pool, now=soon, compound_id=cid) == 0
    # replicas sweeping at once still publish once per issue
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    swept = await asyncio.gather(*(sweep.sweep_overdue(pool, now=later, compound_id=cid)
                                   for _ in range(4)))
    assert sum(swept) == 1
    assert (await events_of(w, late["id"])).count("overdue") == 1
    assert (await events_of(w, answered["id"])).count("overdue") == 1
    got = await ok(await w.issues.get(f"{w.base}/issues/{late['id']}", headers=w.person()), 200)
    assert got["overdue"] is False  # overdue is judged at the real clock in views


async def test_similar_reassign_comments_and_statistics(world: World) -> None:
    w = world
    pump = await report(w, w.person(), category="water_power", area="pump_room",
                        title="二次供水水泵噪音大", description="水泵房半夜噪音很大，影响休息。",
                        attributes={"whole_building": "yes"})
    await report(w, w.person(), category="water_power", area="pump_room", title="停水通知太晚",
                 description="昨天停水没有提前通知。", attributes={"whole_building": "no"})
    found = await ok(await w.issues.get(f"{w.base}/issues/similar", params={
        "category": "water_power", "title": "水泵噪音太大"}, headers=w.person()), 200)
    assert [s["id"] for s in found["items"]][:1] == [pump["id"]]
    assert len(found["items"]) == 1 and found["next_cursor"] is None
    prop, community = w.person("property"), w.person("community")
    await assert_problem(await w.issues.post(f"{w.base}/issues/{pump['id']}/reassign", json={
        "to": "owners_committee"}, headers=w.person("street_office")), 403, "forbidden")
    moved = await ok(await w.issues.post(f"{w.base}/issues/{pump['id']}/reassign", json={
        "to": "owners_committee", "note": "水泵电费分摊需业委会协调"}, headers=prop), 200)
    assert moved["responsible"] == "owners_committee"
    await assert_problem(await step(w, pump["id"], prop, 403, to="accepted"), 403, "forbidden")
    await step(w, pump["id"], w.person("owners_committee"), to="accepted")
    c = await ok(await w.issues.post(f"{w.base}/issues/{pump['id']}/comments", json={
        "template": "scheduled", "body": "周三上午"}, headers=community))
    assert c["official"] is True and c["body"].endswith("周三上午")
    await assert_problem(await w.issues.post(f"{w.base}/issues/{pump['id']}/comments", json={
        "template": "fixed"}, headers=w.person()), 403, "forbidden")
    await assert_problem(await w.issues.post(f"{w.base}/issues/{pump['id']}/comments", json={
        "body": " "}, headers=w.person()), 422, "validation-error")
    await ok(await w.issues.post(f"{w.base}/issues/{pump['id']}/comments", json={
        "body": "我家也听得到"}, headers=w.person()))
    comments = await ok(await w.issues.get(f"{w.base}/issues/{pump['id']}/comments",
                                           headers=w.person()), 200)
    assert [x["official"] for x in comments["items"]] == [True, False]
    await w.issues.post(f"{w.base}/issues/{pump['id']}/cosign", headers=w.person())
    await step(w, pump["id"], w.person("owners_committee"), to="resolved")
    history = await ok(await w.issues.get(f"{w.base}/issues/{pump['id']}/history",
                                          headers=w.person()), 200)
    assert "reassigned" in [h["action"] for h in history["items"]]
    stats = await ok(await w.issues.get(f"{w.base}/issue-stats", headers=w.person()), 200)
    assert stats["total"] == 2
    assert {s["key"]: s["count"] for s in stats["by_status"]} == {"resolved": 1, "submitted": 1}
    assert stats["by_category"] == [{"key": "water_power", "count": 2}]
    assert stats["median_first_response_hours"] is not None
    assert stats["median_resolution_hours"] is not None and stats["overdue"] == 0
    assert stats["top_cosigned_open"] == []
    metrics = await (await w.issues.get("/metrics")).text()
    assert 'linli_issues_reported_total{category="water_power"}' in metrics
    assert "linli_issues_resolution_seconds_bucket" in metrics


async def test_follow_up_workflow_reopens_and_escalates_an_overdue_issue(world: World) -> None:
    w = world
    workflow = bearer(w.token(app="workflows", compounds=["*"], scopes=["issues:manage"]))
    other_app = bearer(w.token(app="other", compounds=["*"], scopes=["issues:report"]))
    issue = await report(w, w.person())
    url = f"{w.base}/issues/{issue['id']}"
    await step(w, issue["id"], workflow, to="accepted")
    await step(w, issue["id"], workflow, to="resolved")
    await assert_problem(await w.issues.post(f"{url}/reopen", json={"reason": "回访不满意"},
                                             headers=other_app), 403, "forbidden")
    key = {**workflow, "Idempotency-Key": str(uuid.uuid4())}
    first = await w.issues.post(f"{url}/reopen", json={"reason": "回访不满意"}, headers=key)
    retry = await w.issues.post(f"{url}/reopen", json={"reason": "回访不满意"}, headers=key)
    assert (first.status, retry.status) == (200, 200)
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert (await events_of(w, issue["id"])).count("reopened") == 1
    assert w.issues.app is not None
    await w.issues.app[POOL].execute(
        "UPDATE issues SET resolve_by = now() - interval '1 hour' WHERE id = $1",
        uuid.UUID(issue["id"]))
    late = await ok(await w.issues.post(f"{url}/escalate", json={
        "reason": "超过处理时限, 由跟踪流程自动提交议事会"}, headers=workflow), 200)
    assert late["overdue"] is True and late["escalation_reason"] == "overdue"


async def test_a_reopened_issue_is_reported_overdue_again_at_its_new_target(world: World) -> None:
    w = world
    reporter = w.person(person=str(uuid.uuid4()))
    issue = await report(w, reporter, category="lift", area="lift", attributes={"trapped": "no"})
    assert w.issues.app is not None
    pool, cid = w.issues.app[POOL], uuid.UUID(w.cid)
    month = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    assert await sweep.sweep_overdue(pool, now=month, compound_id=cid) == 1
    prop = w.person("property")
    await step(w, issue["id"], prop, to="accepted")
    await step(w, issue["id"], prop, to="resolved", note="已修好")
    await ok(await w.issues.post(f"{w.base}/issues/{issue['id']}/reopen",
                                 json={"reason": "又停了"}, headers=reporter), 200)
    assert await sweep.sweep_overdue(pool, now=month, compound_id=cid) == 1
    assert (await events_of(w, issue["id"])).count("overdue") == 2
