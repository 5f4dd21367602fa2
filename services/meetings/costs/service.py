"""Cost-sharing use cases: who benefits pays (谁受益谁承担), split exactly in fen.

Beneficiary units are fetched from the directory once, when the cost is set up, and kept with
the cost, so a plan compared today splits the same units as the bill issued next month.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import msgspec

from linli import problems
from linli.bus import emit
from linli.clients import ServiceClient
from linli.db import Connection, Pool, transaction
from linli.pagination import Page, PageQuery, keyset, page_of, time_cursor, time_keyset, whole
from services.meetings import events
from services.meetings.costs import allocation, explain, store
from services.meetings.costs.models import (
    BeneficiariesIn,
    Bill,
    BillIn,
    BillLine,
    CompareQuery,
    CompareRow,
    Comparison,
    CostIn,
    CostUnit,
    Plan,
    PlanIn,
    SharedCost,
)


class _Unit(msgspec.Struct):
    id: uuid.UUID
    building_id: uuid.UUID
    floor: int
    number: str
    area_centi: int


class _Building(msgspec.Struct):
    id: uuid.UUID
    name: str


async def _directory_units(directory: ServiceClient, compound_id: uuid.UUID) -> list[CostUnit]:
    base = f"/v1/compounds/{compound_id}"
    missing = problems.not_found("小区")
    names = {b.id: b.name for b in await directory.get_all_or(f"{base}/buildings", missing,
                                                               kind=_Building)}
    return [CostUnit(unit_id=u.id, building_id=u.building_id,
                     building_name=names.get(u.building_id, ""), number=u.number,
                     floor=u.floor, area_centi=u.area_centi)
            for u in await directory.get_all_or(f"{base}/units", missing, kind=_Unit)]


def _select(units: list[CostUnit], spec: BeneficiariesIn) -> list[CostUnit]:
    known = {u.unit_id for u in units}
    buildings = {u.building_id for u in units}
    missing = [str(u) for u in spec.unit_ids if u not in known]
    missing += [str(b) for b in spec.building_ids if b not in buildings]
    missing += [str(f.building_id) for f in spec.floors if f.building_id not in buildings]
    if missing:
        raise problems.validation(f"以下单元或楼栋不在该小区: {', '.join(missing)}",
                                  field="beneficiaries")
    floors = {(f.building_id, n) for f in spec.floors for n in f.floors}
    chosen = [u for u in units if u.unit_id in set(spec.unit_ids)
              or u.building_id in set(spec.building_ids) or (u.building_id, u.floor) in floors]
    if not chosen:
        raise problems.validation("受益单元不能为空 (只有受益者分摊费用)", field="beneficiaries")
    return chosen


def _cost(row: Any, units: list[Any]) -> SharedCost:
    return SharedCost(id=row["id"], compound_id=row["compound_id"], name=row["name"],
                      description=row["description"], usage_unit=row["usage_unit"],
                      created_at=row["created_at"],
                      units=[CostUnit(**{k: u[k] for k in CostUnit.__struct_fields__})
                             for u in units])


async def create_cost(pool: Pool, directory: ServiceClient, *, compound_id: uuid.UUID,
                      data: CostIn, by: str) -> SharedCost:
    chosen = _select(await _directory_units(directory, compound_id), data.beneficiaries)
    async with transaction(pool) as conn:
        row = await store.insert_cost(conn, id=uuid.uuid4(), compound_id=compound_id,
                                           name=data.name, description=data.description,
                                           usage_unit=data.usage_unit, created_by=by)
        await store.insert_units(conn, cost_id=row["id"], units=chosen)
        units = await store.cost_units(conn, cost_id=row["id"])
    return _cost(row, units)


async def cost_in(conn: Connection, compound_id: uuid.UUID, cost_id: uuid.UUID) -> Any:
    return problems.owned(await store.get_cost(conn, id=cost_id), compound_id, "分摊费用")


async def get_cost(pool: Pool, *, compound_id: uuid.UUID, cost_id: uuid.UUID) -> SharedCost:
    async with pool.acquire() as conn:
        row = await cost_in(conn, compound_id, cost_id)
        return _cost(row, await store.cost_units(conn, cost_id=cost_id))


async def list_costs(pool: Pool, *, compound_id: uuid.UUID,
                     query: PageQuery) -> Page[SharedCost]:
    """A page of the compound's costs, oldest first, each with its units (two queries)."""
    async with pool.acquire() as conn:
        rows = await store.list_costs(conn, compound_id=compound_id,
                                      after=time_keyset(query.cursor), limit=query.limit + 1)
        units = await store.units_of_costs(conn, cost_ids=[r["id"] for r in rows])
    by_cost: dict[uuid.UUID, list[Any]] = {}
    for u in units:
        by_cost.setdefault(u["cost_id"], []).append(u)
    return page_of([_cost(r, by_cost.get(r["id"], [])) for r in rows], query.limit, time_cursor)


def to_plan(row: Any) -> Plan:
    method = row["method"]
    return Plan(id=row["id"], cost_id=row["cost_id"], name=row["name"],
                method=json.loads(method) if isinstance(method, str) else method,
                status=row["status"], created_at=row["created_at"], adopted_at=row["adopted_at"])


def _method(data: dict[str, Any]) -> allocation.Method:
    try:
        return allocation.method_from_dict(data)
    except ValueError as exc:
        raise problems.validation(f"分摊方式无效: {exc}", field="method") from None


async def _beneficiaries(conn: Connection, cost_id: uuid.UUID,
                         period: str | None) -> tuple[list[allocation.Beneficiary], dict[str, str]]:
    units = await store.cost_units(conn, cost_id=cost_id)
    usage: dict[uuid.UUID, Decimal] = {}
    if period is not None:
        usage = {r["unit_id"]: r["usage"] for r in await store.readings(
            conn, cost_id=cost_id, period=period)}
    labels = {str(u["unit_id"]): f"{u['building_name']} {u['number']}" for u in units}
    return [allocation.Beneficiary(str(u["unit_id"]), u["area_centi"], u["floor"],
                                   usage.get(u["unit_id"])) for u in units], labels


async def create_plan(pool: Pool, *, compound_id: uuid.UUID, cost_id: uuid.UUID,
                      data: PlanIn) -> Plan:
    """A candidate plan; checked against the beneficiaries (e.g. every floor in a band)."""
    method = _method(data.method)
    async with transaction(pool) as conn:
        await cost_in(conn, compound_id, cost_id)
        units, _ = await _beneficiaries(conn, cost_id, None)
        try:  # usage 1 for everyone: the structure is checked, readings come per period
            allocation.shares([allocation.Beneficiary(u.unit_id, u.area_centi, u.floor, 1)
                               for u in units], method)
        except ValueError as exc:
            raise problems.validation(f"该方案无法用于这些受益单元: {exc}", field="method") from None
        row = await store.insert_plan(conn, id=uuid.uuid4(), cost_id=cost_id,
                                           name=data.name, method=allocation.method_to_dict(method))
        if row is None:
            raise problems.conflict(f"已有名为 {data.name} 的方案")
    return to_plan(row)


async def list_plans(pool: Pool, *, compound_id: uuid.UUID, cost_id: uuid.UUID) -> Page[Plan]:
    """The cost's candidate plans: the few being compared, as one page."""
    async with pool.acquire() as conn:
        await cost_in(conn, compound_id, cost_id)
        return whole([to_plan(r) for r in await store.plans(conn, cost_id=cost_id)])


async def compare(pool: Pool, *, compound_id: uuid.UUID, cost_id: uuid.UUID,
                  query: CompareQuery) -> Comparison:
    """Every plan of the cost side by side, unit by unit, with each unit's difference."""
    async with pool.acquire() as conn:
        await cost_in(conn, compound_id, cost_id)
        plans = [to_plan(r) for r in await store.plans(conn, cost_id=cost_id)]
        units, labels = await _beneficiaries(conn, cost_id, query.period)
    if not plans:
        raise problems.conflict("该费用还没有分摊方案", "no-plans")
    try:
        table = allocation.compare(query.total_fen, units,
                                   {p.name: allocation.method_from_dict(p.method) for p in plans},
                                   query.baseline)
    except ValueError as exc:
        raise problems.validation(f"无法比较: {exc}") from None
    rows = [CompareRow(unit_id=uuid.UUID(r["unit_id"]), label=labels[r["unit_id"]],
                       amounts=r["amounts"], diff=r["diff"]) for r in table["rows"]]
    return Comparison(cost_id=cost_id, total_fen=table["total_fen"], period=query.period,
                      baseline=table["baseline"], plans=table["plans"], totals=table["totals"],
                      rows=rows)


async def adopt(pool: Pool, *, compound_id: uuid.UUID, cost_id: uuid.UUID, plan_id: uuid.UUID,
                by: str) -> Plan:
    """Adopt one plan (the one adopted before is superseded); adopting it again changes nothing."""
    async with transaction(pool) as conn:
        cost = await cost_in(conn, compound_id, cost_id)
        await store.lock_cost(conn, id=cost_id)
        plan = await store.get_plan(conn, id=plan_id)
        if plan is None or plan["cost_id"] != cost_id:
            raise problems.not_found("分摊方案")
        if plan["status"] == "adopted":
            return to_plan(plan)
        adopted = to_plan(await store.adopt_plan(conn, cost_id=cost_id, plan_id=plan_id,
                                                      by=by))
        await emit(conn, events.PLAN_ADOPTED, subject=str(cost_id), compound_id=str(compound_id),
                   data=events.PlanAdopted(cost_id=cost_id, plan_id=plan_id,
                                           compound_id=cost["compound_id"], name=adopted.name,
                                           method=adopted.method))
    return adopted


async def _bill(conn: Connection, row: Any, labels: dict[str, str]) -> Bill:
    """The bill with every line's basis, recomputed from what the bill was split on: the
    cost's units as frozen, the readings kept with the lines, the plan it was split by."""
    lines = await store.bill_lines(conn, bill_id=row["id"])
    plan = to_plan(await store.get_plan(conn, id=row["plan_id"]))
    usage = {str(r["unit_id"]): r["usage"] for r in lines}
    units = [allocation.Beneficiary(str(u["unit_id"]), u["area_centi"], u["floor"],
                                    usage.get(str(u["unit_id"])))
             for u in await store.cost_units(conn, cost_id=row["cost_id"])
             if str(u["unit_id"]) in usage]
    basis, per_unit = explain.explain(row["total_fen"], units,
                                      allocation.method_from_dict(plan.method))
    return Bill(id=row["id"], cost_id=row["cost_id"], plan_id=row["plan_id"],
                period=row["period"], total_fen=row["total_fen"], issued_at=row["issued_at"],
                plan_name=plan.name, basis=basis,
                lines=sorted((BillLine(unit_id=r["unit_id"], label=labels[str(r["unit_id"])],
                                       amount_fen=r["amount_fen"],
                                       basis=per_unit[str(r["unit_id"])]) for r in lines),
                             key=lambda line: line.label))


async def issue_bills(pool: Pool, *, compound_id: uuid.UUID, cost_id: uuid.UUID, data: BillIn,
                      by: str) -> Bill:
    """Split the period's bill by the adopted plan: integer fen summing exactly to the total."""
    if data.total_fen < 0:
        raise problems.validation("账单金额不能为负数", field="total_fen")
    async with transaction(pool) as conn:
        cost = await cost_in(conn, compound_id, cost_id)
        plan = await store.adopted_plan(conn, cost_id=cost_id)
        if plan is None:
            raise problems.conflict("该费用还没有采纳的分摊方案", "no-adopted-plan")
        units, labels = await _beneficiaries(conn, cost_id, data.period)
        try:
            amounts = allocation.split(data.total_fen, units,
                                       allocation.method_from_dict(to_plan(plan).method))
        except ValueError as exc:
            raise problems.validation(f"无法按采纳的方案分摊: {exc}") from None
        row = await store.insert_bill(conn, id=uuid.uuid4(), cost_id=cost_id,
                                           plan_id=plan["id"], period=data.period,
                                           total_fen=data.total_fen, by=by)
        if row is None:
            raise problems.conflict(f"{data.period} 的账单已经出具", "bill-exists")
        await store.insert_bill_lines(conn, bill_id=row["id"], amounts={
            uuid.UUID(k): v for k, v in amounts.items()},
            usage={uuid.UUID(u.unit_id): u.usage for u in units})
        await emit(conn, events.BILLS_ISSUED, subject=str(cost_id), compound_id=str(compound_id),
                   data=events.BillsIssued(cost_id=cost_id, bill_id=row["id"], plan_id=plan["id"],
                                           compound_id=compound_id, period=data.period,
                                           total_fen=data.total_fen, units=len(amounts),
                                           name=cost["name"]))
        return await _bill(conn, row, labels)


async def get_bill(pool: Pool, *, compound_id: uuid.UUID, cost_id: uuid.UUID,
                   period: str) -> Bill:
    async with pool.acquire() as conn:
        await cost_in(conn, compound_id, cost_id)
        row = await store.get_bill(conn, cost_id=cost_id, period=period)
        if row is None:
            raise problems.not_found(f"{period} 的账单")
        _, labels = await _beneficiaries(conn, cost_id, None)
        return await _bill(conn, row, labels)


async def list_bills(pool: Pool, *, compound_id: uuid.UUID, cost_id: uuid.UUID,
                     query: PageQuery) -> Page[Bill]:
    """A page of the periods billed for a cost, newest first (a resident finds their share in
    each)."""
    before = keyset(query.cursor, str)
    async with pool.acquire() as conn:
        await cost_in(conn, compound_id, cost_id)
        rows = await store.list_bills(conn, cost_id=cost_id, before=before[0] if before else None,
                                      limit=query.limit + 1)
        page = page_of(rows, query.limit, lambda r: [r["period"]])
        _, labels = await _beneficiaries(conn, cost_id, None)
        bills = [await _bill(conn, row, labels) for row in page.items]
    return Page(items=bills, next_cursor=page.next_cursor)
