"""Plain SQL of shared costs, readings, plans and bills; keyword-only, connection first."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from linli.db import Connection

Row = Any


async def insert_cost(conn: Connection, *, id: uuid.UUID, compound_id: uuid.UUID, name: str,
                      description: str, usage_unit: str, created_by: str) -> Row:
    return await conn.fetchrow(
        "INSERT INTO shared_costs (id, compound_id, name, description, usage_unit, created_by)"
        " VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        id, compound_id, name, description, usage_unit, created_by,
    )


async def insert_units(conn: Connection, *, cost_id: uuid.UUID, units: Sequence[Any]) -> None:
    await conn.executemany(
        "INSERT INTO cost_units (cost_id, unit_id, building_id, building_name, number, floor,"
        " area_centi) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [(cost_id, u.unit_id, u.building_id, u.building_name, u.number, u.floor, u.area_centi)
         for u in units],
    )


async def get_cost(conn: Connection, *, id: uuid.UUID) -> Row:
    return await conn.fetchrow("SELECT * FROM shared_costs WHERE id = $1", id)


async def list_costs(conn: Connection, *, compound_id: uuid.UUID,
                     after: tuple[dt.datetime, uuid.UUID] | None, limit: int) -> list[Row]:
    """One page by (created_at, id)."""
    at, last = after or (None, None)
    return await conn.fetch(
        "SELECT * FROM shared_costs WHERE compound_id = $1"
        " AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))"
        " ORDER BY created_at, id LIMIT $4",
        compound_id, at, last, limit,
    )


async def units_of_costs(conn: Connection, *, cost_ids: list[uuid.UUID]) -> list[Row]:
    """The beneficiary units of several costs in one query."""
    return await conn.fetch(
        "SELECT * FROM cost_units WHERE cost_id = ANY($1) ORDER BY building_name, floor, number",
        cost_ids,
    )


async def cost_units(conn: Connection, *, cost_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM cost_units WHERE cost_id = $1 ORDER BY building_name, floor, number",
        cost_id,
    )


async def upsert_readings(conn: Connection, *, cost_id: uuid.UUID,
                          rows: Sequence[tuple[uuid.UUID, str, Decimal]], by: str) -> None:
    """Record readings; a second reading of a unit for a period corrects the first."""
    await conn.executemany(
        "INSERT INTO meter_readings (cost_id, unit_id, period, usage, recorded_by)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (cost_id, period, unit_id) DO UPDATE"
        " SET usage = EXCLUDED.usage, recorded_by = EXCLUDED.recorded_by, recorded_at = now()",
        [(cost_id, unit_id, period, usage, by) for unit_id, period, usage in rows],
    )


async def readings(conn: Connection, *, cost_id: uuid.UUID, period: str,
                   after: uuid.UUID | None = None, limit: int | None = None) -> list[Row]:
    """A period's readings by unit (a page after the unit `after`; all without a limit)."""
    return await conn.fetch(
        "SELECT unit_id, period, usage FROM meter_readings WHERE cost_id = $1 AND period = $2"
        " AND ($3::uuid IS NULL OR unit_id > $3) ORDER BY unit_id LIMIT $4",
        cost_id, period, after, limit,
    )


async def insert_plan(conn: Connection, *, id: uuid.UUID, cost_id: uuid.UUID, name: str,
                      method: dict[str, Any]) -> Row:
    """None when the cost already has a plan of that name."""
    return await conn.fetchrow(
        "INSERT INTO cost_plans (id, cost_id, name, method) VALUES ($1, $2, $3, $4::jsonb)"
        " ON CONFLICT (cost_id, name) DO NOTHING RETURNING *",
        id, cost_id, name, json.dumps(method),
    )


async def plans(conn: Connection, *, cost_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM cost_plans WHERE cost_id = $1 ORDER BY created_at, id", cost_id
    )


async def get_plan(conn: Connection, *, id: uuid.UUID) -> Row:
    return await conn.fetchrow("SELECT * FROM cost_plans WHERE id = $1", id)


async def adopt_plan(conn: Connection, *, cost_id: uuid.UUID, plan_id: uuid.UUID,
                     by: str) -> Row:
    await conn.execute(
        "UPDATE cost_plans SET status = 'superseded' WHERE cost_id = $1 AND status = 'adopted'",
        cost_id,
    )
    return await conn.fetchrow(
        "UPDATE cost_plans SET status = 'adopted', adopted_at = now(), adopted_by = $2"
        " WHERE id = $1 RETURNING *",
        plan_id, by,
    )


async def adopted_plan(conn: Connection, *, cost_id: uuid.UUID) -> Row:
    return await conn.fetchrow(
        "SELECT * FROM cost_plans WHERE cost_id = $1 AND status = 'adopted'", cost_id
    )


async def insert_bill(conn: Connection, *, id: uuid.UUID, cost_id: uuid.UUID,
                      plan_id: uuid.UUID, period: str, total_fen: int, by: str) -> Row:
    """None when the period was billed already."""
    return await conn.fetchrow(
        "INSERT INTO bills (id, cost_id, plan_id, period, total_fen, issued_by)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (cost_id, period) DO NOTHING RETURNING *",
        id, cost_id, plan_id, period, total_fen, by,
    )


async def insert_bill_lines(conn: Connection, *, bill_id: uuid.UUID,
                            amounts: dict[uuid.UUID, int],
                            usage: dict[uuid.UUID, Decimal | int | None]) -> None:
    """The amounts, each with the reading it was split on (its basis stays with the bill)."""
    await conn.executemany(
        "INSERT INTO bill_lines (bill_id, unit_id, amount_fen, usage) VALUES ($1, $2, $3, $4)",
        [(bill_id, unit_id, fen, usage.get(unit_id)) for unit_id, fen in amounts.items()],
    )


async def get_bill(conn: Connection, *, cost_id: uuid.UUID, period: str) -> Row:
    return await conn.fetchrow(
        "SELECT * FROM bills WHERE cost_id = $1 AND period = $2", cost_id, period
    )


async def bill_lines(conn: Connection, *, bill_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT unit_id, amount_fen, usage FROM bill_lines WHERE bill_id = $1", bill_id
    )


async def lock_cost(conn: Connection, *, id: uuid.UUID) -> None:
    """Serialise changes to one shared cost until the transaction ends."""
    await conn.execute("SELECT 1 FROM shared_costs WHERE id = $1 FOR UPDATE", id)


async def list_bills(conn: Connection, *, cost_id: uuid.UUID, before: str | None,
                     limit: int) -> list[Row]:
    """One page of the periods billed, newest first, before the period `before`."""
    return await conn.fetch(
        "SELECT * FROM bills WHERE cost_id = $1 AND ($2::text IS NULL OR period < $2)"
        " ORDER BY period DESC LIMIT $3",
        cost_id, before, limit,
    )


async def bill_line(conn: Connection, *, bill_id: uuid.UUID, unit_id: uuid.UUID) -> Row:
    return await conn.fetchrow(
        "SELECT l.amount_fen, p.paid_on, p.recorded_by FROM bill_lines l"
        " LEFT JOIN bill_payments p USING (bill_id, unit_id)"
        " WHERE l.bill_id = $1 AND l.unit_id = $2", bill_id, unit_id
    )


async def insert_payment(conn: Connection, *, bill_id: uuid.UUID, unit_id: uuid.UUID,
                         paid_on: dt.date, by: str) -> Row:
    """None when the line was recorded paid already."""
    return await conn.fetchrow(
        "INSERT INTO bill_payments (bill_id, unit_id, paid_on, recorded_by)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING paid_on, recorded_by",
        bill_id, unit_id, paid_on, by,
    )


async def unpaid_lines(conn: Connection, *, compound_id: uuid.UUID,
                       unit_ids: list[uuid.UUID] | None,
                       after: tuple[str, uuid.UUID, uuid.UUID] | None, limit: int) -> list[Row]:
    """A page of the bill lines of the compound's costs without a payment (of the units given),
    by (period, bill, unit) after the keyset."""
    period, bill, unit = after or (None, None, None)
    return await conn.fetch(
        "SELECT c.id AS cost_id, c.name AS cost_name, b.id AS bill_id, b.period, l.unit_id,"
        " l.amount_fen FROM bill_lines l JOIN bills b ON b.id = l.bill_id"
        " JOIN shared_costs c ON c.id = b.cost_id"
        " LEFT JOIN bill_payments p ON p.bill_id = l.bill_id AND p.unit_id = l.unit_id"
        " WHERE c.compound_id = $1 AND p.bill_id IS NULL AND l.amount_fen > 0"
        " AND ($2::uuid[] IS NULL OR l.unit_id = ANY($2))"
        " AND ($3::text IS NULL OR (b.period, b.id, l.unit_id) > ($3, $4::uuid, $5::uuid))"
        " ORDER BY b.period, b.id, l.unit_id LIMIT $6",
        compound_id, unit_ids, period, bill, unit, limit,
    )
