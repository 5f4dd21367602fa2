"""Meter readings per unit and period: JSON, or a CSV import that is all or nothing (every bad
line is reported, linli.uploads)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from linli import problems
from linli.db import Pool, transaction
from linli.formats import fullmatch
from linli.pagination import Page, keyset, page_of
from linli.uploads import BadLines, data_lines
from services.meetings.costs import store
from services.meetings.costs.models import Reading, ReadingsImported, ReadingsIn, ReadingsQuery
from services.meetings.costs.service import cost_in

HEADER = ["building", "number", "period", "usage"]
_PERIOD = fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])")
_USAGE = fullmatch(r"[0-9]{1,12}(\.[0-9]{1,6})?")


async def record(pool: Pool, *, compound_id: uuid.UUID, cost_id: uuid.UUID, data: ReadingsIn,
                 by: str) -> ReadingsImported:
    async with transaction(pool) as conn:
        await cost_in(conn, compound_id, cost_id)
        units = {u["unit_id"] for u in await store.cost_units(conn, cost_id=cost_id)}
        strangers = [str(r.unit_id) for r in data.readings if r.unit_id not in units]
        if strangers:
            raise problems.validation(f"以下单元不是该费用的受益单元: {', '.join(strangers)}",
                                      field="readings")
        rows = {r.unit_id: (r.unit_id, data.period, Decimal(r.usage)) for r in data.readings}
        await store.upsert_readings(conn, cost_id=cost_id, rows=list(rows.values()), by=by)
    return ReadingsImported(cost_id=cost_id, readings=len(rows), periods=[data.period])


def parse_csv(text: str, units: dict[tuple[str, str], uuid.UUID]) -> list[tuple[uuid.UUID, str,
                                                                               Decimal]]:
    """Rows of building,number,period,usage; every bad line is reported by its line number."""
    bad = BadLines(unwritten="读数")
    rows: dict[tuple[uuid.UUID, str], tuple[uuid.UUID, str, Decimal]] = {}
    for line, cells in data_lines(text, HEADER):
        problem = _check_row(cells, units)
        if isinstance(problem, str):
            bad.add(line, problem)
        elif (problem[0], problem[1]) in rows:
            bad.add(line, "同一单元同一期间重复出现")
        else:
            rows[(problem[0], problem[1])] = problem
    bad.check()
    if not rows:
        raise problems.validation("CSV 没有数据行")
    return list(rows.values())


def _check_row(cells: list[str], units: dict[tuple[str, str], uuid.UUID]
               ) -> str | tuple[uuid.UUID, str, Decimal]:
    if len(cells) != len(HEADER):
        return f"应有 {len(HEADER)} 列, 实有 {len(cells)} 列"
    building, number, period, usage = cells
    unit = units.get((building, number))
    if unit is None:
        return f"{building} {number} 不是该费用的受益单元"
    if not _PERIOD.fullmatch(period):
        return f"期间 {period!r} 应写成 YYYY-MM"
    if not _USAGE.fullmatch(usage):
        return f"用量 {usage!r} 必须是非负数 (最多 6 位小数)"
    return unit, period, Decimal(usage)


async def import_csv(pool: Pool, *, compound_id: uuid.UUID, cost_id: uuid.UUID, text: str,
                     by: str) -> ReadingsImported:
    async with transaction(pool) as conn:
        await cost_in(conn, compound_id, cost_id)
        units = {(u["building_name"], u["number"]): u["unit_id"]
                 for u in await store.cost_units(conn, cost_id=cost_id)}
        rows = parse_csv(text, units)
        await store.upsert_readings(conn, cost_id=cost_id, rows=rows, by=by)
    return ReadingsImported(cost_id=cost_id, readings=len(rows),
                            periods=sorted({period for _, period, _ in rows}))


async def list_readings(pool: Pool, *, compound_id: uuid.UUID, cost_id: uuid.UUID,
                        query: ReadingsQuery) -> Page[Reading]:
    """A page of one period's readings, by unit."""
    after = keyset(query.cursor, uuid.UUID)
    async with pool.acquire() as conn:
        await cost_in(conn, compound_id, cost_id)
        rows = await store.readings(conn, cost_id=cost_id, period=query.period,
                                    after=after[0] if after else None, limit=query.limit + 1)
    return page_of([Reading(unit_id=r["unit_id"], period=r["period"], usage=str(r["usage"]))
                    for r in rows], query.limit, lambda r: [str(r.unit_id)])
