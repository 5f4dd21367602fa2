"""The status flow: transitions, reopening, reassignment, satisfaction feedback, history.

Each use case locks the issue row, so two staff acting at once are serialised and the second
sees the first's result (409 on an illegal step)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from linli import problems
from linli.auth import Principal
from linli.bus import emit
from linli.db import Connection, Pool, transaction
from linli.pagination import Page, PageQuery, keyset, page_of
from linli.values import now_utc
from services.issues import events, metrics, rules, store
from services.issues.models import (
    Feedback,
    FeedbackIn,
    HistoryEntry,
    Issue,
    ReassignIn,
    ToAccepted,
    ToDuplicate,
    ToInProgress,
    ToRejected,
    ToResolved,
    Transition,
)
from services.issues.service import issue_row, named, view

TARGETS: dict[type, str] = {ToAccepted: "accepted", ToInProgress: "in_progress",
                            ToResolved: "resolved", ToRejected: "rejected",
                            ToDuplicate: "duplicate"}
MANAGE_SCOPE = rules.MANAGE_SCOPE
# A follow-up survey may reach the reporter late; its "not fixed" still reopens.
FOLLOW_UP_WINDOW_HOURS = 24 * 365


def may_manage(who: Principal, row: Any) -> bool:
    """The responsible party, the community, an admin or an app with issues:manage."""
    if who.is_app:
        return MANAGE_SCOPE in who.scopes
    return who.has_role("community", row["responsible"])


def illegal(exc: rules.IllegalTransition) -> problems.Problem:
    return problems.conflict(str(exc), "illegal-transition")


async def write_status(conn: Connection, row: Any, *, to: str, actor: str | None, note: str,
                  action: str, fields: dict[str, Any] | None = None) -> Any:
    """Write a status change, its history line and the status_changed event."""
    updated = await store.update_issue(conn, id=row["id"],
                                       fields={"status": to, "status_note": note, **(fields or {})})
    await store.insert_history(conn, issue_id=row["id"], action=action,
                               from_status=row["status"], to_status=to, actor=actor, note=note)
    await emit(conn, events.ISSUE_STATUS_CHANGED, subject=str(row["id"]),
               compound_id=str(row["compound_id"]),
               data=events.IssueStatusChanged(
                   issue_id=row["id"], compound_id=row["compound_id"], category=row["category"],
                   from_status=row["status"], to_status=to, changed_by=actor, note=note or None,
                   duplicate_of=updated["duplicate_of"]))
    return updated


async def transition(pool: Pool, *, compound_id: uuid.UUID, issue_id: uuid.UUID,
                     who: Principal, step: Transition) -> Issue:
    target = TARGETS[type(step)]
    note = step.reason if isinstance(step, ToRejected) else (
        step.note or rules.RESPONSE_TEMPLATES.get(step.template or "", ""))
    now = now_utc()
    async with transaction(pool) as conn:
        row = await issue_row(conn, compound_id, issue_id, lock=True)
        if not may_manage(who, row):
            raise problems.forbidden("只有责任方或社区可以变更问题状态")
        try:
            rules.check_transition(row["status"], target)
        except rules.IllegalTransition as exc:
            raise illegal(exc) from None
        fields: dict[str, Any] = {}
        if isinstance(step, ToDuplicate):
            await _check_original(conn, row, step.duplicate_of)
            fields["duplicate_of"] = step.duplicate_of
        if row["first_response_at"] is None:
            fields["first_response_at"] = now
        if target == "resolved":
            fields |= {"resolved_at": now, "resolutions": row["resolutions"] + 1}
        if target in rules.CLOSED:  # closed by its party: no longer waiting on the council
            fields["council_since"] = None
        updated = await write_status(conn, row, to=target, actor=who.subject, note=note,
                                action="status", fields=fields)
        await announce(conn, updated, target, who.subject, note)
    _observe(row, updated, now)
    return view(updated, who)


async def _check_original(conn: Connection, row: Any, original_id: uuid.UUID) -> None:
    original = await store.get_issue(conn, id=original_id)
    if original is None or original["compound_id"] != row["compound_id"]:
        raise problems.validation("重复的原问题不存在", field="duplicate_of")
    if original["id"] == row["id"] or original["status"] == "duplicate":
        raise problems.validation("原问题不能是自身或另一个重复问题", field="duplicate_of")


async def announce(conn: Connection, row: Any, target: str, actor: str, note: str) -> None:
    """The specific events consumers rely on (workflows: accepted, resolved)."""
    base = {"issue_id": row["id"], "compound_id": row["compound_id"], "category": row["category"]}
    subject, cid = str(row["id"]), str(row["compound_id"])
    if target == "accepted":
        await emit(conn, events.ISSUE_ACCEPTED, subject=subject, compound_id=cid,
                   data=events.IssueAccepted(**base, respond_by=row["respond_by"],
                                             resolve_by=row["resolve_by"], accepted_by=actor))
    elif target == "resolved":
        await emit(conn, events.ISSUE_RESOLVED, subject=subject, compound_id=cid,
                   data=events.IssueResolved(
                       **base, reporter_id=row["reporter_id"], resolved_by=actor, note=note or None,
                       cosigner_ids=await store.cosigners(conn, issue_id=row["id"])))


def _observe(before: Any, after: Any, now: dt.datetime) -> None:
    label = rules.metric_category(after["category"])
    if before["first_response_at"] is None and after["first_response_at"] is not None:
        metrics.FIRST_RESPONSE.labels(label).observe((now - after["created_at"]).total_seconds())
    if after["status"] == "resolved":
        metrics.RESOLVED.labels(label).inc()
        metrics.RESOLUTION.labels(label).observe((now - after["created_at"]).total_seconds())


async def _reopen(conn: Connection, row: Any, *, actor: str, reason: str, note: str) -> Any:
    category = await store.get_category(conn, compound_id=row["compound_id"], code=row["category"])
    resolve_by = now_utc() + dt.timedelta(hours=category["resolve_hours"])
    updated = await write_status(conn, row, to=rules.REOPEN_TO, actor=actor, note=note,
                            action="reopened",
                            # a new target: missing it is reported overdue again
                            fields={"resolved_at": None, "resolve_by": resolve_by,
                                    "overdue_at": None})
    await emit(conn, events.ISSUE_REOPENED, subject=str(row["id"]),
               compound_id=str(row["compound_id"]),
               data=events.IssueReopened(issue_id=row["id"], compound_id=row["compound_id"],
                                         category=row["category"], reason=reason,
                                         reopened_by=actor))
    return updated


async def reopen(pool: Pool, *, compound_id: uuid.UUID, issue_id: uuid.UUID, who: Principal,
                 reason: str) -> Issue:
    """The reporter reopens a resolved issue within the compound's window; a follow-up
    workflow (issues:manage) reopens it for a reporter who said it is not fixed."""
    follow_up = who.is_app and MANAGE_SCOPE in who.scopes
    async with transaction(pool) as conn:
        row = await issue_row(conn, compound_id, issue_id, lock=True)
        if not follow_up and (not who.person_id or row["reporter_id"] != who.person_id):
            raise problems.forbidden("只有上报人可以重新打开问题")
        settings = await store.get_settings(conn, compound_id=compound_id)
        window = settings["reopen_window_hours"] if not follow_up else FOLLOW_UP_WINDOW_HOURS
        try:
            rules.check_reopen(row["status"], row["resolved_at"], now_utc(), window)
        except rules.IllegalTransition as exc:
            raise illegal(exc) from None
        updated = await _reopen(conn, row, actor=who.subject,
                                reason="unsatisfied" if follow_up else "reporter", note=reason)
    return view(updated, who)


async def reassign(pool: Pool, *, compound_id: uuid.UUID, issue_id: uuid.UUID, who: Principal,
                   data: ReassignIn) -> Issue:
    async with transaction(pool) as conn:
        row = await issue_row(conn, compound_id, issue_id, lock=True)
        if not may_manage(who, row):
            raise problems.forbidden("只有当前责任方或社区可以转交问题")
        if row["status"] not in rules.OPEN:
            raise problems.conflict("已关闭的问题不能转交", "illegal-transition")
        if data.to == row["responsible"]:
            raise problems.validation("问题已由该责任方处理", field="to")
        updated = await store.update_issue(conn, id=issue_id, fields={"responsible": data.to})
        note = f"{rules.PARTIES[row['responsible']]} → {rules.PARTIES[data.to]} {data.note}".strip()
        await store.insert_history(conn, issue_id=issue_id, action="reassigned",
                                   from_status=row["status"], to_status=row["status"],
                                   actor=who.subject, note=note)
        await emit(conn, events.ISSUE_REASSIGNED, subject=str(issue_id), compound_id=str(compound_id),
                   data=events.IssueReassigned(
                       issue_id=issue_id, compound_id=compound_id, category=row["category"],
                       from_party=row["responsible"], to_party=data.to, reassigned_by=who.subject,
                       note=data.note or None))
    return view(updated, who)


async def feedback(pool: Pool, *, compound_id: uuid.UUID, issue_id: uuid.UUID, who: Principal,
                   data: FeedbackIn) -> Feedback:
    """The reporter or a co-signer rates a resolution once; "not fixed" reopens the issue."""
    async with transaction(pool) as conn:
        row = await issue_row(conn, compound_id, issue_id, lock=True)
        person = who.person_id
        if not person or (row["reporter_id"] != person
                          and not await store.is_cosigner(conn, issue_id=issue_id, person_id=person)):
            raise problems.forbidden("只有上报人和附议人可以评价处理结果")
        if row["status"] != "resolved":
            raise problems.conflict("问题尚未解决，不能评价", "illegal-transition")
        if not await store.insert_feedback(conn, issue_id=issue_id, round=row["resolutions"],
                                           person_id=person, score=data.score, fixed=data.fixed,
                                           comment=data.comment):
            raise problems.conflict("你已经评价过这次处理结果", "already-rated")
        await store.insert_history(conn, issue_id=issue_id, action="feedback",
                                   from_status=row["status"], to_status=row["status"],
                                   actor=who.subject,
                                   note=f"满意度 {data.score}，{'已解决' if data.fixed else '未解决'}")
        if not data.fixed:
            await _reopen(conn, row, actor=who.subject, reason="unsatisfied",
                          note=data.comment or "居民评价问题未解决")
    return Feedback(issue_id=issue_id, round=row["resolutions"], score=data.score,
                    fixed=data.fixed, reopened=not data.fixed)


async def history(pool: Pool, *, compound_id: uuid.UUID, issue_id: uuid.UUID,
                  who: Principal, query: PageQuery) -> Page[HistoryEntry]:
    """A page of the issue's history, oldest first."""
    after = keyset(query.cursor, int)
    async with pool.acquire() as conn:
        row = await issue_row(conn, compound_id, issue_id)
        rows = await store.list_history(conn, issue_id=issue_id, after=after[0] if after else None,
                                        limit=query.limit + 1)
    page = page_of(rows, query.limit, lambda r: [r["id"]])
    return Page(items=[HistoryEntry(action=r["action"], from_status=r["from_status"],
                                    to_status=r["to_status"], actor=named(row, who, r["actor"]),
                                    note=r["note"], created_at=r["created_at"])
                       for r in page.items], next_cursor=page.next_cursor)
