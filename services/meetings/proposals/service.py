"""Proposal use cases: proposals, versions, consultation, opinions. One transaction each.

Votes are in voting.py, cost sharing in costs.py, meetings in sessions.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from linli import problems
from linli.bus import emit
from linli.db import Connection, Pool, transaction
from linli.pagination import Page, page_of, time_cursor, time_keyset, whole
from linli.values import now_utc
from services.meetings import events
from services.meetings.proposals import store
from services.meetings.proposals.models import (
    MATTER_LABELS,
    Consultation,
    Opinion,
    OpinionIn,
    OpinionQuery,
    OpinionSummary,
    Proposal,
    ProposalIn,
    ProposalQuery,
    ProposalVersion,
    StanceCounts,
    VersionIn,
)

# A proposal being voted on, or adopted, is no longer changed or consulted on.
FROZEN = ("voting", "passed")


def to_proposal(row: Any) -> Proposal:
    return Proposal(
        id=row["id"], compound_id=row["compound_id"], title=row["title"], matter=row["matter"],
        matter_label=MATTER_LABELS[row["matter"]], status=row["status"],
        current_version=row["current_version"], body=row["body"], budget_fen=row["budget_fen"],
        funding=row["funding"], attachments=list(row["attachments"]),
        created_by=row["created_by"], created_at=row["created_at"], updated_at=row["updated_at"],
        managed_by=row["managed_by"], issue_ids=list(row["issue_ids"]),
    )


def to_consultation(row: Any) -> Consultation:
    return Consultation(proposal_id=row["proposal_id"], version=row["version"],
                        status=row["status"], opens_at=row["opens_at"],
                        closes_at=row["closes_at"], closed_at=row["closed_at"])




async def proposal_in(conn: Connection, compound_id: uuid.UUID, proposal_id: uuid.UUID,
                      *, lock: bool = False, share: bool = False) -> Any:
    """The proposal row; 404 when it does not exist or belongs to another compound."""
    row = await store.get_proposal(conn, id=proposal_id, lock=lock, share=share)
    return problems.owned(row, compound_id, "议案")


def require_driver(row: Any, *, by_app: bool) -> None:
    """While a workflow runs the proposal, the steps it drives come only from it (apps holding
    meetings:manage, i.e. the worker); a person uses the workflow's API instead (409)."""
    if row["managed_by"] and not by_app:
        workflow_id = row["managed_by"]
        raise problems.conflict(
            f"议案正由流程 {workflow_id} 推进, 这一步由流程完成; 请通过流程接口"
            f" /v1/workflows/{workflow_id} 操作 (提前结束或延长征求意见、取消流程)",
            "managed-by-workflow")


async def set_managed_by(pool: Pool, *, compound_id: uuid.UUID, proposal_id: uuid.UUID,
                         workflow_id: str | None) -> Proposal:
    """The workflow marks the proposal it runs (and clears the mark when it ends); idempotent.
    Another workflow's mark is not overwritten (409)."""
    async with transaction(pool) as conn:
        row = await proposal_in(conn, compound_id, proposal_id, lock=True)
        if workflow_id and row["managed_by"] not in (None, workflow_id):
            raise problems.conflict(f"议案已由流程 {row['managed_by']} 推进", "managed-by-workflow")
        await store.set_managed_by(conn, id=proposal_id, workflow_id=workflow_id)
        row = await store.get_proposal(conn, id=proposal_id)
    return to_proposal(row)


async def _emit_proposal(conn: Connection, kind: Any, row: Any, summary: str = "") -> None:
    await emit(conn, kind, subject=str(row["id"]), compound_id=str(row["compound_id"]),
               data=events.ProposalChanged(
                   proposal_id=row["id"], compound_id=row["compound_id"], title=row["title"],
                   matter=row["matter"], version=row["current_version"], change_summary=summary,
                   issue_ids=list(row["issue_ids"])))


async def create_proposal(pool: Pool, *, compound_id: uuid.UUID, data: ProposalIn,
                          by: str) -> Proposal:
    proposal_id = uuid.uuid4()
    async with transaction(pool) as conn:
        await store.insert_proposal(conn, id=proposal_id, compound_id=compound_id,
                                    title=data.title, matter=data.matter, funding=data.funding,
                                    attachments=list(data.attachments), created_by=by,
                                    issue_ids=list(dict.fromkeys(data.issue_ids)))
        await store.insert_version(conn, proposal_id=proposal_id, number=1, body=data.body,
                                   change_summary="初稿", budget_fen=data.budget_fen,
                                   created_by=by)
        row = await store.get_proposal(conn, id=proposal_id)
        await _emit_proposal(conn, events.PROPOSAL_CREATED, row, "初稿")
    return to_proposal(row)


async def get_proposal(pool: Pool, *, compound_id: uuid.UUID, proposal_id: uuid.UUID) -> Proposal:
    async with pool.acquire() as conn:
        return to_proposal(await proposal_in(conn, compound_id, proposal_id))


async def list_proposals(pool: Pool, *, compound_id: uuid.UUID,
                         query: ProposalQuery) -> Page[Proposal]:
    async with pool.acquire() as conn:
        rows = await store.list_proposals(conn, compound_id=compound_id, status=query.status,
                                          after=time_keyset(query.cursor), limit=query.limit + 1)
    return page_of([to_proposal(r) for r in rows], query.limit,
                   time_cursor)


async def revise(pool: Pool, *, compound_id: uuid.UUID, proposal_id: uuid.UUID, data: VersionIn,
                 by: str, by_app: bool = True) -> ProposalVersion:
    """A new numbered version; an open consultation moves to it, opinions already given stay
    with the version they were given on. An app (the workflow) names the person whose
    decision it carries out; that person is the version's author."""
    if data.on_behalf_of is not None:
        if not by_app:
            raise problems.validation("只有流程可以代他人发布版本 (on_behalf_of)", field="on_behalf_of")
        by = data.on_behalf_of
    async with transaction(pool) as conn:
        row = await proposal_in(conn, compound_id, proposal_id, lock=True)
        require_driver(row, by_app=by_app)
        if row["status"] in FROZEN or row["status"] == "withdrawn":
            raise problems.conflict("议案正在表决、已通过或已撤回, 不能再修改", "proposal-frozen")
        number = row["current_version"] + 1
        budget = data.budget_fen if data.budget_fen is not None else row["budget_fen"]
        version = await store.insert_version(
            conn, proposal_id=proposal_id, number=number, body=data.body,
            change_summary=data.change_summary, budget_fen=budget, created_by=by)
        status = "draft" if row["status"] == "rejected" else None
        await store.set_proposal(conn, id=proposal_id, current_version=number, status=status)
        row = await store.get_proposal(conn, id=proposal_id)
        await _emit_proposal(conn, events.PROPOSAL_REVISED, row, data.change_summary)
        # an open consultation goes on about the new version (same deadline); opinions given
        # so far stay with the version they were given on
        moved = await store.move_consultation(conn, proposal_id=proposal_id, version=number)
        # a workflow's proposal: the workflow reopens the consultation on this version with its
        # own deadline right after, and that is the one notice (not two with different deadlines)
        if moved is not None and not row["managed_by"]:
            await _emit_consultation(conn, events.CONSULTATION_OPENED, moved, compound_id,
                                     row["title"])
    return ProposalVersion(**dict(version))


async def list_versions(pool: Pool, *, compound_id: uuid.UUID,
                        proposal_id: uuid.UUID) -> Page[ProposalVersion]:
    """A proposal's versions (a handful of revisions), as one page."""
    async with pool.acquire() as conn:
        await proposal_in(conn, compound_id, proposal_id)
        rows = await store.list_versions(conn, proposal_id=proposal_id)
    return whole([ProposalVersion(**dict(r)) for r in rows])


async def _emit_consultation(conn: Connection, kind: Any, row: Any, compound_id: uuid.UUID,
                             title: str) -> None:
    await emit(conn, kind, subject=str(row["proposal_id"]), compound_id=str(compound_id),
               data=events.ConsultationChanged(
                   proposal_id=row["proposal_id"], compound_id=compound_id,
                   version=row["version"], status=row["status"],
                   closes_at=row["closes_at"].isoformat(), title=title))


async def open_consultation(pool: Pool, *, compound_id: uuid.UUID, proposal_id: uuid.UUID,
                            closes_at: dt.datetime, by_app: bool = True) -> Consultation:
    """Open on the current version; while open, extend it; on a new version, restart it."""
    if closes_at.tzinfo is None:
        raise problems.validation("closes_at 必须带时区, 例如 2026-06-01T18:00:00+08:00",
                                  field="closes_at")
    if closes_at <= now_utc():
        raise problems.validation("征求意见的截止时间必须晚于现在", field="closes_at")
    async with transaction(pool) as conn:
        row = await proposal_in(conn, compound_id, proposal_id, lock=True)
        require_driver(row, by_app=by_app)
        if row["status"] in FROZEN or row["status"] == "withdrawn":
            raise problems.conflict("议案正在表决、已通过或已撤回, 不能再征求意见", "proposal-frozen")
        consultation = await store.open_consultation(
            conn, proposal_id=proposal_id, version=row["current_version"], closes_at=closes_at)
        await store.set_proposal(conn, id=proposal_id, status="consultation")
        await _emit_consultation(conn, events.CONSULTATION_OPENED, consultation, compound_id,
                                 row["title"])
    return to_consultation(consultation)


async def end_consultation(conn: Connection, *, proposal: Any) -> Any:
    """Close the open consultation inside the caller's transaction (None if none was open)."""
    closed = await store.close_consultation(conn, proposal_id=proposal["id"])
    if closed is not None:
        if proposal["status"] == "consultation":
            await store.set_proposal(conn, id=proposal["id"], status="consulted")
        await _emit_consultation(conn, events.CONSULTATION_CLOSED, closed, proposal["compound_id"],
                                 proposal["title"])
    return closed


async def close_consultation(pool: Pool, *, compound_id: uuid.UUID,
                             proposal_id: uuid.UUID, by_app: bool = True) -> Consultation:
    """Idempotent: closing a closed consultation returns it unchanged."""
    async with transaction(pool) as conn:
        row = await proposal_in(conn, compound_id, proposal_id, lock=True)
        require_driver(row, by_app=by_app)
        closed = await end_consultation(conn, proposal=row)
        if closed is None:
            closed = await store.get_consultation(conn, proposal_id=proposal_id)
            if closed is None:
                raise problems.not_found("该议案的征求意见")
    return to_consultation(closed)


async def get_consultation(pool: Pool, *, compound_id: uuid.UUID,
                           proposal_id: uuid.UUID) -> Consultation:
    async with pool.acquire() as conn:
        await proposal_in(conn, compound_id, proposal_id)
        row = await store.get_consultation(conn, proposal_id=proposal_id)
    if row is None:
        raise problems.not_found("该议案的征求意见")
    return to_consultation(row)


async def give_opinion(pool: Pool, *, compound_id: uuid.UUID, proposal_id: uuid.UUID,
                       data: OpinionIn, by: str) -> Opinion:
    """An opinion on the version under consultation; 409 unless a consultation is open."""
    async with transaction(pool) as conn:
        # KEY SHARE first (lock order: proposal, then consultation): a close, a revision or a
        # vote opening in flight commits before the consultation is read, never in between
        await proposal_in(conn, compound_id, proposal_id, share=True)
        consultation = await store.get_consultation(conn, proposal_id=proposal_id)
        if consultation is None or consultation["status"] != "open" \
                or consultation["closes_at"] <= now_utc():
            raise problems.conflict("该议案当前没有在征求意见", "consultation-closed")
        version = consultation["version"]
        row = await store.insert_opinion(conn, id=uuid.uuid4(), proposal_id=proposal_id,
                                         version=version, person_id=by, stance=data.stance,
                                         text=data.text)
        await emit(conn, events.OPINION_RECORDED, subject=str(proposal_id),
                   compound_id=str(compound_id),
                   data=events.OpinionRecorded(proposal_id=proposal_id, compound_id=compound_id,
                                               version=version, stance=data.stance,
                                               opinion_id=row["id"]))
    return Opinion(**dict(row))


async def list_opinions(pool: Pool, *, compound_id: uuid.UUID, proposal_id: uuid.UUID,
                        query: OpinionQuery) -> Page[Opinion]:
    keyset = time_keyset(query.cursor)
    async with pool.acquire() as conn:
        await proposal_in(conn, compound_id, proposal_id)
        rows = await store.list_opinions(conn, proposal_id=proposal_id, version=query.version,
                                         after=keyset, limit=query.limit + 1)
    return page_of([Opinion(**dict(r)) for r in rows], query.limit,
                   time_cursor)


async def opinion_summary(pool: Pool, *, compound_id: uuid.UUID,
                          proposal_id: uuid.UUID) -> OpinionSummary:
    """Counts by stance for every version (versions without opinions show zeros)."""
    async with pool.acquire() as conn:
        row = await proposal_in(conn, compound_id, proposal_id)
        counts = await store.count_opinions(conn, proposal_id=proposal_id)
        consultation = await store.get_consultation(conn, proposal_id=proposal_id)
    versions = {n: StanceCounts(version=n) for n in range(1, row["current_version"] + 1)}
    for c in counts:
        entry = versions[c["version"]]
        setattr(entry, c["stance"], c["n"])
        entry.total += c["n"]
    return OpinionSummary(
        proposal_id=proposal_id, current_version=row["current_version"],
        consultation=to_consultation(consultation) if consultation else None,
        versions=list(versions.values()))
