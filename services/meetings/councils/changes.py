"""Changing a convened meeting: reordering its agenda, cancelling it (with a reason, an event).

Both are for the convener's organisation (service.require_manager) and lock the meeting row.
"""

from __future__ import annotations

import uuid
from typing import Any

from linli import problems
from linli.auth import Principal
from linli.bus import emit
from linli.db import Connection, Pool, transaction
from services.meetings import events
from services.meetings.councils import store
from services.meetings.councils.models import AgendaItem, Meeting
from services.meetings.councils.service import (
    agenda,
    detail,
    meeting_in,
    require_convened,
    require_manager,
)


async def _locked(conn: Connection, compound_id: uuid.UUID, meeting_id: uuid.UUID,
                  who: Principal) -> Any:
    meeting = await meeting_in(conn, compound_id, meeting_id)
    await require_manager(conn, meeting, who)
    await store.lock_meeting(conn, id=meeting_id)
    return await meeting_in(conn, compound_id, meeting_id)


async def reorder(pool: Pool, *, compound_id: uuid.UUID, meeting_id: uuid.UUID,
                  item_ids: list[uuid.UUID], who: Principal) -> list[AgendaItem]:
    """The full list of the meeting's item ids in their new order, each once."""
    async with transaction(pool) as conn:
        require_convened(await _locked(conn, compound_id, meeting_id, who))
        current = {r["id"] for r in await store.items(conn, meeting_id=meeting_id)}
        if len(set(item_ids)) != len(item_ids) or set(item_ids) != current:
            raise problems.validation("须按新顺序给出该会议全部议程事项的 id, 每个一次",
                                      field="item_ids")
        await store.reorder_items(conn, meeting_id=meeting_id, item_ids=item_ids)
        return await agenda(conn, meeting_id)


async def cancel(pool: Pool, *, compound_id: uuid.UUID, meeting_id: uuid.UUID, reason: str,
                 who: Principal) -> Meeting:
    """Cancel before it is held (no minutes yet); idempotent: a cancelled meeting is returned."""
    async with transaction(pool) as conn:
        meeting = await _locked(conn, compound_id, meeting_id, who)
        if meeting["status"] == "convened":
            if await store.get_minutes(conn, meeting_id=meeting_id) is not None:
                raise problems.conflict("会议已经召开并形成纪要, 不能取消", "meeting-held")
            meeting = await store.cancel_meeting(conn, id=meeting_id, by=who.subject,
                                                         reason=reason.strip())
            await emit(conn, events.MEETING_CANCELLED, subject=str(meeting_id),
                       compound_id=str(compound_id),
                       data=events.MeetingCancelled(
                           meeting_id=meeting_id, compound_id=compound_id,
                           title=meeting["title"], starts_at=meeting["starts_at"].isoformat(),
                           reason=meeting["cancel_reason"], cancelled_by=who.subject,
                           venue_booking_id=meeting["venue_booking_id"]))
        return await detail(conn, meeting)
