"""Events the centre reacts to, with the routing table at the bottom."""

from __future__ import annotations

from linli.bus import Subscription
from linli.db import Connection
from linli.events import CloudEvent
from services.centre import bookings
from services.meetings.events import MEETING_CANCELLED


async def release_meeting_venue(conn: Connection, event: CloudEvent) -> None:
    """A council meeting held at a centre venue was cancelled: the venue is free again."""
    data = MEETING_CANCELLED.parse(event)
    if data.venue_booking_id is not None:
        await bookings.release_for_meeting(conn, booking_id=data.venue_booking_id,
                                           reason=f"议事会“{data.title}”已取消: {data.reason}")


SUBSCRIPTIONS = [
    Subscription(durable="centre-cancelled-meetings", event=MEETING_CANCELLED,
                 handler=release_meeting_venue),
]
