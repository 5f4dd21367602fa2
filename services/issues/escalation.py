"""Co-signs, escalation to the council, the overdue sweep and per-compound statistics."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from linli import problems
from linli.app import CleanupContext, periodic
from linli.auth import Principal
from linli.bus import emit
from linli.db import Connection, Pool, transaction
from services.issues import events, metrics, rules, store
from services.issues.models import Cosign, CountBy, Issue, SimilarIssue, Stats
from services.issues.service import issue_row, now_utc, view

log = logging.getLogger("linli.issues")
ESCALATORS = ("party_branch", "owners_committee")
SWEEP_INTERVAL_SECONDS = 60.0


async def _escalate(conn: Connection, row: Any, *, reason: str, actor: str | None,
                    note: str = "") -> Any:
    updated = await store.update_issue(conn, id=row["id"], fields={
        "escalated_at": now_utc(), "escalation_reason": reason})
    await store.insert_history(conn, issue_id=row["id"], action="escalated",
                               from_status=row["status"], to_status=row["status"], actor=actor,
                               note=note or reason)
    await emit(conn, events.ISSUE_ESCALATED, subject=str(row["id"]),
               compound_id=str(row["compound_id"]),
               data=events.IssueEscalated(
                   issue_id=row["id"], compound_id=row["compound_id"], title=row["title"],
                   category=row["category"], cosign_count=updated["cosign_count"], reason=reason,
                   escalated_by=actor))
    return updated


async def cosign(pool: Pool, *, compound_id: uuid.UUID, issue_id: uuid.UUID,
                 who: Principal) -> Cosign:
    """One co-sign per person (primary key); at the threshold the issue goes to the council."""
    person = who.person_id
    if not person:
        raise problems.forbidden("只有居民本人可以附议")
    async with transaction(pool) as conn:
        row = await issue_row(conn, compound_id, issue_id, lock=True)
        if row["status"] not in rules.OPEN:
            raise problems.conflict("问题已关闭，不能附议", "issue-closed")
        if row["reporter_id"] == person:
            raise problems.conflict("不能附议自己上报的问题", "own-issue")
        if not await store.insert_cosign(conn, issue_id=issue_id, person_id=person):
            raise problems.conflict("你已经附议过该问题", "already-cosigned")
        row = await store.update_issue(conn, id=issue_id,
                                       fields={"cosign_count": row["cosign_count"] + 1})
        await emit(conn, events.ISSUE_COSIGNED, subject=str(issue_id), compound_id=str(compound_id),
                   data=events.IssueCosigned(issue_id=issue_id, compound_id=compound_id,
                                             person_id=person, cosign_count=row["cosign_count"]))
        settings = await store.get_settings(conn, compound_id=compound_id)
        reached = row["escalated_at"] is None and row["cosign_count"] >= settings["cosign_threshold"]
        if reached:
            row = await _escalate(conn, row, reason="cosign_threshold", actor=None,
                                  note=f"附议达到 {settings['cosign_threshold']} 人")
    if reached:
        metrics.ESCALATED.labels(rules.metric_category(row["category"]), "cosign_threshold").inc()
    return Cosign(issue_id=issue_id, cosign_count=row["cosign_count"],
                  escalated=row["escalated_at"] is not None)


async def escalate(pool: Pool, *, compound_id: uuid.UUID, issue_id: uuid.UUID, who: Principal,
                   reason: str) -> Issue:
    """Manual escalation by the party branch, owners' committee or a workflow (409 if done)."""
    async with transaction(pool) as conn:
        row = await issue_row(conn, compound_id, issue_id, lock=True)
        # a workflow escalating an issue past its target does so because it is overdue
        late = who.is_app and view(row, who).overdue
        kind = "overdue" if reason == "overdue" or late else "manual"
        if row["escalated_at"] is not None:
            raise problems.conflict("问题已提交议事会", "already-escalated")
        if row["status"] == "duplicate":
            raise problems.conflict("重复问题不能提交议事会，请提交原问题", "illegal-transition")
        updated = await _escalate(conn, row, reason=kind, actor=who.subject, note=reason)
    metrics.ESCALATED.labels(rules.metric_category(row["category"]), kind).inc()
    return view(updated, who)


# ---------------------------------------------------------------- overdue sweep


async def sweep_overdue(pool: Pool, *, now: dt.datetime | None = None,
                        compound_id: uuid.UUID | None = None, batch: int = 100) -> int:
    """Publish `overdue` once per issue past a target; replicas share the work (SKIP LOCKED)."""
    now = now or now_utc()
    total = 0
    while True:
        async with transaction(pool) as conn:
            rows = await store.claim_overdue(conn, now=now, compound_id=compound_id, limit=batch)
            for row in rows:
                await store.update_issue(conn, id=row["id"], fields={"overdue_at": now})
                await store.insert_history(conn, issue_id=row["id"], action="overdue",
                                           from_status=row["status"], to_status=row["status"],
                                           actor=None, note="超过处理时限")
                await emit(conn, events.ISSUE_OVERDUE, subject=str(row["id"]),
                           compound_id=str(row["compound_id"]),
                           data=events.IssueOverdue(
                               issue_id=row["id"], compound_id=row["compound_id"],
                               category=row["category"], status=row["status"],
                               responsible=row["responsible"], respond_by=row["respond_by"],
                               resolve_by=row["resolve_by"]))
        for row in rows:
            metrics.OVERDUE.labels(rules.metric_category(row["category"])).inc()
        total += len(rows)
        if len(rows) < batch:
            return total


def overdue_sweeper(interval: float = SWEEP_INTERVAL_SECONDS) -> CleanupContext:
    """Cleanup context: the periodic sweep runs while the service runs."""
    return periodic("issues-overdue-sweep", sweep_overdue, every=interval, wait_first=True)


# ---------------------------------------------------------------- statistics


async def stats(pool: Pool, *, compound_id: uuid.UUID) -> Stats:
    async with pool.acquire() as conn:
        summary = await store.stats_summary(conn, compound_id=compound_id, now=now_utc())
        by_status = await store.stats_counts(conn, compound_id=compound_id, column="status")
        by_category = await store.stats_counts(conn, compound_id=compound_id, column="category")
        top = await store.top_cosigned(conn, compound_id=compound_id, limit=5)

    def hours(seconds: float | None) -> float | None:
        return None if seconds is None else round(seconds / 3600, 2)

    satisfaction = summary["satisfaction"]
    return Stats(
        compound_id=compound_id, total=summary["total"],
        by_status=[CountBy(key=r["key"], count=r["count"]) for r in by_status],
        by_category=[CountBy(key=r["key"], count=r["count"]) for r in by_category],
        median_first_response_hours=hours(summary["median_response"]),
        median_resolution_hours=hours(summary["median_resolution"]),
        overdue=summary["overdue"], escalated=summary["escalated"],
        satisfaction_average=None if satisfaction is None else round(satisfaction, 2),
        top_cosigned_open=[SimilarIssue(id=r["id"], title=r["title"], status=r["status"],
                                        cosign_count=r["cosign_count"], score=1.0) for r in top],
    )
