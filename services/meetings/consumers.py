"""Events the meetings service reacts to, with the routing table at the bottom."""

from __future__ import annotations

import uuid

from linli.bus import Subscription
from linli.db import Connection
from linli.events import CloudEvent
from services.issues.events import ISSUE_ESCALATED
from services.meetings.councils import store as session_store
from services.meetings.councils.service import emit_item


async def propose_escalated_issue(conn: Connection, event: CloudEvent) -> None:
    """An issue escalated to the council becomes a proposed agenda item (once per issue)."""
    data = ISSUE_ESCALATED.parse(event)
    row = await session_store.insert_item(
        conn, id=uuid.uuid4(), compound_id=data.compound_id, meeting_id=None,
        title=f"居民诉求: {data.title}", source="issue", issue_id=data.issue_id,
        presenter="")
    if row is not None:
        await emit_item(conn, row)


SUBSCRIPTIONS = [
    Subscription(durable="meetings-escalated-issues", event=ISSUE_ESCALATED,
                 handler=propose_escalated_issue),
]
