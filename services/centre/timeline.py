"""The steps of an activity's timeline, run by ActivityWorkflow (or staff): the reminder the day
before to those signed up, the feedback request to those who came, and closing with the
attendance. Each happens once: a repeated call (a retried workflow activity) changes nothing
and writes no second event; on a cancelled activity they do nothing and answer it as it is
(status cancelled), which tells the workflow to stop."""

from __future__ import annotations

import uuid
from typing import Any

from linli.auth import Principal
from linli.bus import emit
from linli.db import Pool, transaction
from services.centre import activity_store as st
from services.centre import events, store
from services.centre.activities import activity_event, activity_row, to_activity
from services.centre.models import Activity
from services.centre.service import now_utc


async def _step(pool: Pool, compound_id: uuid.UUID, activity_id: uuid.UUID, who: Principal,
                column: str, kind: Any, people_of: Any) -> Activity:
    async with transaction(pool) as conn:
        row = await activity_row(conn, compound_id, activity_id, lock=True)
        if row["status"] != "cancelled" and row[column] is None:
            people = await people_of(conn, activity_id=activity_id)
            row = await store.update(conn, table="activities", id=activity_id,
                                     fields={column: now_utc()})
            await activity_event(conn, kind, row, who, people)
        row = await st.activity(conn, id=activity_id)
    return to_activity(row)


async def remind(pool: Pool, *, compound_id: uuid.UUID, activity_id: uuid.UUID,
                 who: Principal) -> Activity:
    return await _step(pool, compound_id, activity_id, who, "reminded_at",
                       events.ACTIVITY_REMINDER, st.confirmed_people)


async def request_feedback(pool: Pool, *, compound_id: uuid.UUID, activity_id: uuid.UUID,
                           who: Principal) -> Activity:
    return await _step(pool, compound_id, activity_id, who, "feedback_requested_at",
                       events.ACTIVITY_FEEDBACK_REQUESTED, st.attendees)


async def close(pool: Pool, *, compound_id: uuid.UUID, activity_id: uuid.UUID,
                who: Principal) -> Activity:
    """Close the activity with its attendance; sign-ups and check-ins end with it."""
    async with transaction(pool) as conn:
        row = await activity_row(conn, compound_id, activity_id, lock=True)
        if row["status"] == "open":
            counts = await st.attendance(conn, activity_id=activity_id)
            row = await store.update(conn, table="activities", id=activity_id,
                                     fields={"status": "closed", "closed_at": now_utc()})
            average = counts["feedback_average"]
            await emit(conn, events.ACTIVITY_CLOSED, subject=str(activity_id),
                       compound_id=str(compound_id),
                       data=events.ActivityClosed(
                           activity_id=activity_id, compound_id=compound_id,
                           title=row["title"], audience=row["audience"],
                           capacity=row["capacity"], confirmed=counts["confirmed"],
                           attended=counts["attended"],
                           feedback_average=round(average, 2) if average is not None else None,
                           by=who.subject))
        row = await st.activity(conn, id=activity_id)
    return to_activity(row)
