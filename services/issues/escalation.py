"""Co-signs and escalation to the council (by enough co-signs or by an escalating organisation).

The overdue sweep is in sweep.py, the statistics in stats.py."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from linli import problems
from linli.auth import Principal
from linli.bus import emit
from linli.db import Connection, Pool, transaction
from linli.values import now_utc
from services.issues import events, metrics, rules, store
from services.issues.models import Cosign, Issue
from services.issues.service import issue_row, view

log = logging.getLogger("linli.issues")
ESCALATORS = ("party_branch", "owners_committee")


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
        if row["council_since"] is not None:  # a proposal answers it: the council has it
            raise problems.conflict(f"问题已纳入议案“{row['proposal_title']}”，由议事会推进",
                                    "already-escalated")
        if row["status"] == "duplicate":
            raise problems.conflict("重复问题不能提交议事会，请提交原问题", "illegal-transition")
        updated = await _escalate(conn, row, reason=kind, actor=who.subject, note=reason)
    metrics.ESCALATED.labels(rules.metric_category(row["category"]), kind).inc()
    return view(updated, who)
