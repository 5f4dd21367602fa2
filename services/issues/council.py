"""Issues follow the proposal they led to, through events only: meetings' proposal.created
names them (with the council: their targets wait), the proposal workflow's step_changed ends it
(completed: resolved with a note naming the proposal; abandoned or cancelled: back to the
responsible party, targets moved on by the time spent with the council)."""

from __future__ import annotations

import uuid
from typing import Any

from linli.bus import emit
from linli.db import Connection
from linli.events import CloudEvent
from linli.values import now_utc
from services.issues import events, rules, store
from services.issues.flow import announce, write_status
from services.meetings.events import PROPOSAL_CREATED
from workflows.events import PROPOSAL_STEP_CHANGED

COUNCIL_ACTOR = "议事会"
ENDS = {"abandoned": "已放弃", "cancelled": "已取消"}


async def proposal_created(conn: Connection, event: CloudEvent) -> None:
    """The issues a new proposal answers are with the council from now on (each once)."""
    data = PROPOSAL_CREATED.parse(event)
    for issue_id in data.issue_ids:
        row = await store.get_issue(conn, id=issue_id, lock=True)
        if (row is None or row["compound_id"] != data.compound_id
                or row["status"] not in rules.OPEN or row["council_since"] is not None):
            continue  # another compound's, closed, or with the council already
        note = f"已纳入议案“{data.title}”，由议事会推进；议事期间处理时限暂停"
        await store.update_issue(conn, id=issue_id, fields={
            "proposal_id": data.proposal_id, "proposal_title": data.title,
            "council_since": now_utc()})
        await store.insert_history(conn, issue_id=issue_id, action="with_council",
                                   from_status=row["status"], to_status=row["status"],
                                   actor=COUNCIL_ACTOR, note=note)
        await emit(conn, events.ISSUE_WITH_COUNCIL, subject=str(issue_id),
                   compound_id=str(row["compound_id"]), data=events.IssueWithCouncil(
                       issue_id=issue_id, compound_id=row["compound_id"],
                       proposal_id=data.proposal_id, proposal_title=data.title,
                       reporter_id=row["reporter_id"]))


async def proposal_step(conn: Connection, event: CloudEvent) -> None:
    """The proposal's run ended: its issues are resolved, or go back to their party."""
    data = PROPOSAL_STEP_CHANGED.parse(event)
    if data.step != "completed" and data.step not in ENDS:
        return
    try:
        proposal_id = uuid.UUID(data.entity_id)
    except ValueError:
        return
    for row in await store.issues_of_proposal(conn, proposal_id=proposal_id):
        if data.step == "completed":
            await _resolve(conn, row)
        else:
            await _return(conn, row, data.step)


async def _resolve(conn: Connection, row: Any) -> None:
    note = f"议案“{row['proposal_title']}”已实施并通过验收，问题随之解决"
    now = now_utc()
    fields: dict[str, Any] = {"council_since": None, "resolved_at": now,
                              "resolutions": row["resolutions"] + 1}
    if row["first_response_at"] is None:
        fields["first_response_at"] = now
    updated = await write_status(conn, row, to="resolved", actor=COUNCIL_ACTOR, note=note,
                                 action="council_resolved", fields=fields)
    await announce(conn, updated, "resolved", COUNCIL_ACTOR, note)


async def _return(conn: Connection, row: Any, outcome: str) -> None:
    """Back to the responsible party; the time with the council does not count against it."""
    paused = now_utc() - row["council_since"]
    party = rules.PARTIES.get(row["responsible"], row["responsible"])
    note = f"议案“{row['proposal_title']}”{ENDS[outcome]}，问题退回{party}继续处理"
    updated = await store.update_issue(conn, id=row["id"], fields={
        "council_since": None, "respond_by": row["respond_by"] + paused,
        "resolve_by": row["resolve_by"] + paused, "status_note": note})
    await store.insert_history(conn, issue_id=row["id"], action="returned",
                               from_status=row["status"], to_status=row["status"],
                               actor=COUNCIL_ACTOR, note=note)
    await emit(conn, events.ISSUE_RETURNED, subject=str(row["id"]),
               compound_id=str(row["compound_id"]), data=events.IssueReturned(
                   issue_id=row["id"], compound_id=row["compound_id"],
                   proposal_id=row["proposal_id"], proposal_title=row["proposal_title"],
                   responsible=row["responsible"], outcome=outcome,
                   reporter_id=row["reporter_id"], respond_by=updated["respond_by"],
                   resolve_by=updated["resolve_by"]))
