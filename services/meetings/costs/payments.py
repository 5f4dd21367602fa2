"""Bills paid and unpaid: who keeps the shared costs records a unit's share of a period's bill
as paid; the lines never recorded paid are what the unit owes (the committee founding checks
its candidates against them)."""

from __future__ import annotations

import uuid

from linli import problems
from linli.db import Pool, transaction
from linli.pagination import Page, keyset, page_of
from services.meetings.costs import store
from services.meetings.costs.models import Payment, PaymentIn, UnpaidLine, UnpaidQuery
from services.meetings.costs.service import cost_in


async def record_payment(pool: Pool, *, compound_id: uuid.UUID, cost_id: uuid.UUID, period: str,
                         data: PaymentIn, by: str) -> Payment:
    """Once per line: recording it again returns the first record unchanged."""
    async with transaction(pool) as conn:
        await cost_in(conn, compound_id, cost_id)
        bill = await store.get_bill(conn, cost_id=cost_id, period=period)
        if bill is None:
            raise problems.not_found(f"{period} 的账单")
        line = await store.bill_line(conn, bill_id=bill["id"], unit_id=data.unit_id)
        if line is None:
            raise problems.validation("该房屋不在这期账单中", field="unit_id")
        if line["paid_on"] is None:
            await store.insert_payment(conn, bill_id=bill["id"], unit_id=data.unit_id,
                                       paid_on=data.paid_on, by=by)
            line = await store.bill_line(conn, bill_id=bill["id"], unit_id=data.unit_id)
    return Payment(bill_id=bill["id"], unit_id=data.unit_id, amount_fen=line["amount_fen"],
                   paid_on=line["paid_on"], recorded_by=line["recorded_by"])


def _unit_ids(query: UnpaidQuery) -> list[uuid.UUID] | None:
    if query.unit_ids is None:
        return None
    try:
        return [uuid.UUID(part) for part in query.unit_ids.split(",") if part.strip()]
    except ValueError:
        raise problems.validation("unit_ids 须是以逗号分隔的房屋 id", field="unit_ids") from None


async def unpaid(pool: Pool, *, compound_id: uuid.UUID,
                 query: UnpaidQuery) -> Page[UnpaidLine]:
    """A page of the compound's bill lines never recorded paid (of the units asked), oldest
    period first."""
    after = keyset(query.cursor, str, uuid.UUID, uuid.UUID)
    async with pool.acquire() as conn:
        rows = await store.unpaid_lines(conn, compound_id=compound_id, unit_ids=_unit_ids(query),
                                        after=(after[0], after[1], after[2]) if after else None,
                                        limit=query.limit + 1)
    return page_of([UnpaidLine(cost_id=r["cost_id"], cost_name=r["cost_name"],
                               bill_id=r["bill_id"], period=r["period"], unit_id=r["unit_id"],
                               amount_fen=r["amount_fen"]) for r in rows], query.limit,
                   lambda u: [u.period, str(u.bill_id), str(u.unit_id)])
