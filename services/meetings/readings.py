"""Meter readings per unit and period: JSON, or a CSV import that is all or nothing."""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal
from typing import Any

from linli import problems
from linli.db import Pool, transaction
from linli.formats import fullmatch
from services.meetings import cost_store
from services.meetings.cost_models import Reading, ReadingsImported, ReadingsIn
from services.meetings.costs import cost_in

HEADER = ["building", "number", "period", "usage"]
_PERIOD = fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])")
_USAGE = fullmatch(r"[0-9]{1,12}(\.[0-9]{1,6})?")
MAX_ROWS = 20_000


async def record(pool: Pool, *, compound_id: uuid.UUID, cost_id: uuid.UUID, data: ReadingsIn,
                 by: str) -> ReadingsImported:
    async with transaction(pool) as conn:
        await cost_in(conn, compound_id, cost_id)
        units = {u["unit_id"] for u in await cost_store.cost_units(conn, cost_id=cost_id)}
        strangers = [str(r.unit_id) for r in data.readings if r.unit_id not in units]
        if strangers:
            raise problems.validation(f"以下单元不是该费用的受益单元: {', '.join(strangers)}",
                                      field="readings")
        rows = {r.unit_id: (r.unit_id, data.period, Decimal(r.usage)) for r in data.readings}
        await cost_store.upsert_readings(conn, cost_id=cost_id, rows=list(rows.values()), by=by)
    return ReadingsImported(cost_id=cost_id, readings=len(rows), periods=[data.period])


def parse_csv(text: str, units: dict[tuple[str, str], uuid.UUID]) -> list[tuple[uuid.UUID, str,
                                                                               Decimal]]:
    """Rows of building,number,period,usage; every bad line is reported by its line number."""
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    if header != HEADER:
        raise problems.validation(f"CSV 表头必须是 {','.join(HEADER)}", field="line 1")
    errors: list[dict[str, Any]] = []
    rows: dict[tuple[uuid.UUID, str], tuple[uuid.UUID, str, Decimal]] = {}
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        problem = _check_row(cells, units)
        if isinstance(problem, str):
            errors.append({"line": line, "field": f"line {line}", "detail": problem})
        elif (problem[0], problem[1]) in rows:
            errors.append({"line": line, "field": f"line {line}",
                           "detail": "同一单元同一期间重复出现"})
        else:
            rows[(problem[0], problem[1])] = problem
        if len(rows) > MAX_ROWS:
            raise problems.validation(f"一次最多导入 {MAX_ROWS} 行")
    if errors:
        first = errors[0]
        raise problems.Problem(422, "validation-error", "请求内容不合规",
                               f"第 {first['line']} 行: {first['detail']} (共 {len(errors)} 行有误,"
                               " 未写入任何读数)", errors=errors)
    if not rows:
        raise problems.validation("CSV 没有数据行")
    return list(rows.values())


def _check_row(cells: list[str], units: dict[tuple[str, str], uuid.UUID]
               ) -> str | tuple[uuid.UUID, str, Decimal]:
    if len(cells) != len(HEADER):
        return f"应有 {len(HEADER)} 列, 实有 {len(cells)} 列"
    building, number, period, usage = (c.strip() for c in cells)
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
                 for u in await cost_store.cost_units(conn, cost_id=cost_id)}
        rows = parse_csv(text, units)
        await cost_store.upsert_readings(conn, cost_id=cost_id, rows=rows, by=by)
    return ReadingsImported(cost_id=cost_id, readings=len(rows),
                            periods=sorted({period for _, period, _ in rows}))


async def list_readings(pool: Pool, *, compound_id: uuid.UUID, cost_id: uuid.UUID,
                        period: str) -> list[Reading]:
    async with pool.acquire() as conn:
        await cost_in(conn, compound_id, cost_id)
        rows = await cost_store.readings(conn, cost_id=cost_id, period=period)
    return [Reading(unit_id=r["unit_id"], period=r["period"], usage=str(r["usage"]))
            for r in rows]
