"""Issues follow the proposal they led to, through events only: a proposal made in meetings for
some issues puts them with the council (议事中, the proposal named and linked, no target runs
out meanwhile); the proposal workflow completing resolves them with a note naming the proposal
(the reporter and co-signers are named in the event); abandoned, they go back to their party
with their targets moved on by the time spent with the council. Redelivered events change
nothing twice.

Real issues, meetings and directory over HTTP, real NATS: meetings' relay publishes
proposal.created; the workflow's step_changed is published the way the worker's relay would.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from linli import metrics
from linli.events import encode
from linli.http import JETSTREAM, POOL
from services.issues import sweep
from services.issues.consumers import SUBSCRIPTIONS
from services.issues.rules import PARTIES
from services.meetings.app import create_app as meetings_app
from tests.conftest import AppFactory, eventually
from tests.integration.test_issues import World, events_of, ok, report, world
from workflows.events import PROPOSAL_STEP_CHANGED, StepChanged

__all__ = ["world"]
STEPS = next(s for s in SUBSCRIPTIONS if s.event is PROPOSAL_STEP_CHANGED)


async def issue(w: World, issue_id: str) -> dict[str, Any]:
    got: dict[str, Any] = await ok(await w.issues.get(f"{w.base}/issues/{issue_id}",
                                                      headers=w.person("community")), 200)
    return got


async def proposal_for(w: World, serve: AppFactory, *issue_ids: str) -> dict[str, Any]:
    """The party branch makes a proposal in meetings answering these issues."""
    meetings = await serve(meetings_app)
    made: dict[str, Any] = await ok(await meetings.post(f"{w.base}/proposals", json={
        "title": "顶楼隔热改造", "matter": "art278_7", "body": "屋面加隔热层并平改坡",
        "issue_ids": list(issue_ids)}, headers=w.person("party_branch")), 201)
    assert made["issue_ids"] == list(issue_ids)
    return made


async def with_council(w: World, issue_id: str) -> dict[str, Any]:
    async def there() -> dict[str, Any] | None:
        got = await issue(w, issue_id)
        return got if got["with_council"] else None

    result: dict[str, Any] = await eventually(there)
    return result


async def run_ends(w: World, proposal_id: str, step: str) -> None:
    """The proposal workflow's last step_changed, published twice (a redelivery); wait until
    issues has taken both: one applied, one a duplicate."""
    event = PROPOSAL_STEP_CHANGED.new(subject=proposal_id, compound_id=w.cid, data=StepChanged(
        workflow_id=f"proposal-{proposal_id}", entity_id=proposal_id, compound_id=w.cid,
        step=step, previous="satisfaction" if step == "completed" else "rejected",
        outcome="closed" if step == "completed" else "abandon", round=1,
        at=dt.datetime.now(dt.UTC)))
    duplicates = metrics.EVENTS_CONSUMED.labels(STEPS.durable, event.type, "duplicate")
    before = duplicates._value.get()
    assert w.issues.app is not None
    js = w.issues.app[JETSTREAM]
    for _ in range(2):
        await js.publish(event.type, encode(event), headers={"Nats-Msg-Id": str(uuid.uuid4())})
    await eventually(lambda: duplicates._value.get() > before)


async def outbox_data(w: World, issue_id: str, verb: str) -> list[dict[str, Any]]:
    assert w.issues.app is not None
    rows = await w.issues.app[POOL].fetch(
        "SELECT payload FROM outbox WHERE subject = $1 AND position($2::bytea in payload) > 0"
        " ORDER BY created_at, id", f"linli.issues.issue.{verb}", issue_id.encode())
    return [json.loads(bytes(r["payload"]))["data"] for r in rows]


async def test_issues_with_the_council_are_resolved_when_the_proposal_completes(
        world: World, serve: AppFactory) -> None:
    w = world
    reporter = str(uuid.uuid4())
    hot = await report(w, w.person(person=reporter), category="common_parts", area="roof",
                       title="顶楼夏天像蒸笼", description="屋顶没有隔热层，六楼夏天超过38度。")
    neighbour = str(uuid.uuid4())
    await ok(await w.issues.post(f"{w.base}/issues/{hot['id']}/cosign",
                                 headers=w.person(person=neighbour)), 201)
    made = await proposal_for(w, serve, hot["id"])
    got = await with_council(w, hot["id"])
    assert (got["council_label"], got["proposal_id"], got["proposal_title"]) == (
        "议事中", made["id"], "顶楼隔热改造")
    assert got["status"] == "submitted"

    # the council takes months: no target runs out meanwhile
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)
    assert w.issues.app is not None
    await sweep.sweep_overdue(w.issues.app[POOL], now=later, compound_id=uuid.UUID(w.cid))
    assert "overdue" not in await events_of(w, hot["id"])
    assert not (await issue(w, hot["id"]))["overdue"]

    await run_ends(w, made["id"], "completed")
    done = await issue(w, hot["id"])
    assert done["status"] == "resolved" and not done["with_council"]
    assert done["status_note"] == "议案“顶楼隔热改造”已实施并通过验收，问题随之解决"
    assert done["proposal_id"] == made["id"]  # the link stays
    resolved = await outbox_data(w, hot["id"], "resolved")
    assert len(resolved) == 1  # the redelivered event resolved nothing twice
    assert resolved[0]["reporter_id"] == reporter and resolved[0]["cosigner_ids"] == [neighbour]
    assert (await outbox_data(w, hot["id"], "with_council"))[0]["proposal_title"] == "顶楼隔热改造"


async def test_issues_go_back_to_their_party_when_the_proposal_is_abandoned(
        world: World, serve: AppFactory) -> None:
    w = world
    hot = await report(w, w.person(), category="common_parts", area="roof",
                       title="顶楼夏天像蒸笼", description="屋顶没有隔热层，六楼夏天超过38度。")
    closed = await report(w, w.person())
    await ok(await w.issues.post(f"{w.base}/issues/{closed['id']}/status", json={
        "to": "rejected", "reason": "不属于公共部位"}, headers=w.person("community")), 200)
    fixed = await report(w, w.person())
    made = await proposal_for(w, serve, hot["id"], closed["id"], fixed["id"])
    before = await with_council(w, hot["id"])
    assert not (await issue(w, closed["id"]))["with_council"]  # a closed issue stays closed
    # its party fixes one meanwhile: closed, it no longer waits on the council
    await with_council(w, fixed["id"])
    staff = w.person("community")
    for to in ("accepted", "resolved"):
        await ok(await w.issues.post(f"{w.base}/issues/{fixed['id']}/status", json={
            "to": to, "note": "已修好"}, headers=staff), 200)
    assert not (await issue(w, fixed["id"]))["with_council"]

    await run_ends(w, made["id"], "abandoned")
    back = await issue(w, hot["id"])
    assert back["status"] == "submitted" and not back["with_council"]
    assert back["status_note"] == f"议案“顶楼隔热改造”已放弃，问题退回{party(back)}继续处理"
    moved = (dt.datetime.fromisoformat(back["resolve_by"])
             - dt.datetime.fromisoformat(before["resolve_by"]))
    assert moved > dt.timedelta(0)  # the time with the council does not count against the party
    returned = await outbox_data(w, hot["id"], "returned")
    assert [(r["outcome"], r["responsible"]) for r in returned] == [("abandoned", back["responsible"])]
    assert await outbox_data(w, fixed["id"], "returned") == []
    assert (await issue(w, fixed["id"]))["status"] == "resolved"


def party(row: dict[str, Any]) -> str:
    return PARTIES[row["responsible"]]
