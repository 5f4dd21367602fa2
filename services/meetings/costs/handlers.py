"""HTTP views of cost sharing: parse → use case → response; no SQL."""

from __future__ import annotations

import uuid

from linli.http import POOL, Call
from linli.pagination import Page
from linli.uploads import csv_text
from services.meetings.costs import payments, readings, service
from services.meetings.costs.models import (
    Bill,
    Comparison,
    Payment,
    Plan,
    Reading,
    ReadingsImported,
    SharedCost,
    UnpaidLine,
)
from services.meetings.keys import DIRECTORY
from services.meetings.proposals.handlers import compound


def cost(call: Call) -> uuid.UUID:
    return call.uuid_param("cost_id", "分摊费用")


async def create_cost(call: Call) -> SharedCost:
    return await service.create_cost(call.app[POOL], call.app[DIRECTORY], compound_id=compound(call),
                                   data=call.body, by=call.who.subject)


async def list_costs(call: Call) -> Page[SharedCost]:
    return await service.list_costs(call.app[POOL], compound_id=compound(call), query=call.query)


async def get_cost(call: Call) -> SharedCost:
    return await service.get_cost(call.app[POOL], compound_id=compound(call), cost_id=cost(call))


async def record_readings(call: Call) -> ReadingsImported:
    return await readings.record(call.app[POOL], compound_id=compound(call), cost_id=cost(call),
                                 data=call.body, by=call.who.subject)


async def import_readings(call: Call) -> ReadingsImported:
    text = await csv_text(call.request)
    return await readings.import_csv(call.app[POOL], compound_id=compound(call),
                                     cost_id=cost(call), text=text, by=call.who.subject)


async def list_readings(call: Call) -> Page[Reading]:
    return await readings.list_readings(call.app[POOL], compound_id=compound(call),
                                        cost_id=cost(call), query=call.query)


async def create_plan(call: Call) -> Plan:
    return await service.create_plan(call.app[POOL], compound_id=compound(call), cost_id=cost(call),
                                   data=call.body)


async def list_plans(call: Call) -> Page[Plan]:
    return await service.list_plans(call.app[POOL], compound_id=compound(call), cost_id=cost(call))


async def compare(call: Call) -> Comparison:
    return await service.compare(call.app[POOL], compound_id=compound(call), cost_id=cost(call),
                               query=call.query)


async def adopt(call: Call) -> Plan:
    return await service.adopt(call.app[POOL], compound_id=compound(call), cost_id=cost(call),
                             plan_id=call.uuid_param("plan_id", "分摊方案"), by=call.who.subject)


async def issue_bills(call: Call) -> Bill:
    return await service.issue_bills(call.app[POOL], compound_id=compound(call), cost_id=cost(call),
                                   data=call.body, by=call.who.subject)


async def get_bill(call: Call) -> Bill:
    period = call.param("period")
    return await service.get_bill(call.app[POOL], compound_id=compound(call), cost_id=cost(call),
                                period=period)


async def list_bills(call: Call) -> Page[Bill]:
    return await service.list_bills(call.app[POOL], compound_id=compound(call), cost_id=cost(call),
                                    query=call.query)


async def record_payment(call: Call) -> Payment:
    return await payments.record_payment(
        call.app[POOL], compound_id=compound(call), cost_id=cost(call), period=call.param("period"),
        data=call.body, by=call.who.subject)


async def unpaid(call: Call) -> Page[UnpaidLine]:
    return await payments.unpaid(call.app[POOL], compound_id=compound(call), query=call.query)
