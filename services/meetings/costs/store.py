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


async def list_costs(conn: Connection, *, compound_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM shared_costs WHERE compound_id = $1 ORDER BY created_at, id", compound_id
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


async def readings(conn: Connection, *, cost_id: uuid.UUID, period: str) -> list[Row]:
    return await conn.fetch(
        "SELECT unit_id, period, usage FROM meter_readings WHERE cost_id = $1 AND period = $2"
        " ORDER BY unit_id",
        cost_id, period,
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


async def list_bills(conn: Connection, *, cost_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM bills WHERE cost_id = $1 ORDER BY period DESC", cost_id
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
                       unit_ids: list[uuid.UUID] | None) -> list[Row]:
    """Every bill line of the compound's costs without a payment (of the units given)."""
    return await conn.fetch(
        "SELECT c.id AS cost_id, c.name AS cost_name, b.id AS bill_id, b.period, l.unit_id,"
        " l.amount_fen FROM bill_lines l JOIN bills b ON b.id = l.bill_id"
        " JOIN shared_costs c ON c.id = b.cost_id"
        " LEFT JOIN bill_payments p ON p.bill_id = l.bill_id AND p.unit_id = l.unit_id"
        " WHERE c.compound_id = $1 AND p.bill_id IS NULL AND l.amount_fen > 0"
        " AND ($2::uuid[] IS NULL OR l.unit_id = ANY($2))"
        " ORDER BY b.period, c.name, l.unit_id", compound_id, unit_ids
    )
