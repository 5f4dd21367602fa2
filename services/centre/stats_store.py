"""Plain SQL of the centre's statistics: venue use, participation, loans per month."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from linli.db import Connection

Row = Any


async def booked_minutes(conn: Connection, *, compound_id: uuid.UUID, since: dt.datetime,
                         until: dt.datetime) -> list[Row]:
    """Minutes of confirmed bookings per venue and local week (Monday)."""
    return await conn.fetch(
        "SELECT venue_id, (date_trunc('week', starts_at AT TIME ZONE 'Asia/Shanghai'))::date"
        " AS week, sum(extract(epoch FROM ends_at - starts_at))::bigint / 60 AS minutes"
        " FROM bookings WHERE compound_id = $1 AND status IN ('confirmed', 'no_show')"
        " AND starts_at >= $2 AND starts_at < $3 GROUP BY 1, 2", compound_id, since, until)


async def participation_by_audience(conn: Connection, *, compound_id: uuid.UUID,
                                    since: dt.datetime) -> list[Row]:
    return await conn.fetch(
        "SELECT a.audience AS key, count(DISTINCT a.id) AS activities,"
        " count(s.id) FILTER (WHERE s.status = 'confirmed') AS signed_up,"
        " count(s.id) FILTER (WHERE s.checked_in_at IS NOT NULL) AS attended"
        " FROM activities a LEFT JOIN signups s ON s.activity_id = a.id"
        " WHERE a.compound_id = $1 AND a.status <> 'cancelled' AND a.starts_at >= $2"
        " GROUP BY a.audience ORDER BY a.audience", compound_id, since)


async def participation_by_group(conn: Connection, *, compound_id: uuid.UUID,
                                 since: dt.datetime) -> list[Row]:
    return await conn.fetch(
        "SELECT g.name AS key, count(DISTINCT a.id) AS activities,"
        " count(s.id) FILTER (WHERE s.status = 'confirmed') AS signed_up,"
        " count(s.id) FILTER (WHERE s.checked_in_at IS NOT NULL) AS attended,"
        " (SELECT count(*) FROM group_members m WHERE m.group_id = g.id"
        "  AND m.status = 'active') AS members"
        " FROM interest_groups g LEFT JOIN activities a ON a.group_id = g.id"
        "  AND a.status <> 'cancelled' AND a.starts_at >= $2"
        " LEFT JOIN signups s ON s.activity_id = a.id"
        " WHERE g.compound_id = $1 AND g.status = 'approved' GROUP BY g.id ORDER BY g.name",
        compound_id, since)


async def loans_by_month(conn: Connection, *, compound_id: uuid.UUID,
                         since: dt.datetime) -> list[Row]:
    return await conn.fetch(
        "SELECT to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month,"
        " count(*) AS loans, count(*) FILTER (WHERE status = 'lost') AS lost"
        " FROM loans WHERE compound_id = $1 AND created_at >= $2 GROUP BY 1 ORDER BY 1",
        compound_id, since)
