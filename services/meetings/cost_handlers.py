"""HTTP views of cost sharing: parse → use case → response; no SQL."""

from __future__ import annotations

import uuid

from linli import problems
from linli.http import POOL, Call
from services.meetings import costs, readings
from services.meetings.cost_models import (
    Bill,
    Comparison,
    Plan,
    Reading,
    ReadingsImported,
    SharedCost,
)
from services.meetings.handlers import compound
from services.meetings.vote_handlers import DIRECTORY


def cost(call: Call) -> uuid.UUID:
    return call.uuid_param("cost_id", "分摊费用")


async def create_cost(call: Call) -> SharedCost:
    return await costs.create_cost(call.app[POOL], call.app[DIRECTORY], compound_id=compound(call),
                                   data=call.body, by=call.who.subject)


async def list_costs(call: Call) -> list[SharedCost]:
    return await costs.list_costs(call.app[POOL], compound_id=compound(call))


async def get_cost(call: Call) -> SharedCost:
    return await costs.get_cost(call.app[POOL], compound_id=compound(call), cost_id=cost(call))


async def record_readings(call: Call) -> ReadingsImported:
    return await readings.record(call.app[POOL], compound_id=compound(call), cost_id=cost(call),
                                 data=call.body, by=call.who.subject)


async def import_readings(call: Call) -> ReadingsImported:
    if call.request.content_type not in ("text/csv", "text/plain"):
        raise problems.Problem(415, "unsupported-media-type", "不支持的内容类型",
                               "请以 Content-Type: text/csv 上传 CSV 文件")
    try:
        text = (await call.request.read()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise problems.bad_request("CSV 必须是 UTF-8 编码") from None
    return await readings.import_csv(call.app[POOL], compound_id=compound(call),
                                     cost_id=cost(call), text=text, by=call.who.subject)


async def list_readings(call: Call) -> list[Reading]:
    return await readings.list_readings(call.app[POOL], compound_id=compound(call),
                                        cost_id=cost(call), period=call.query.period)


async def create_plan(call: Call) -> Plan:
    return await costs.create_plan(call.app[POOL], compound_id=compound(call), cost_id=cost(call),
                                   data=call.body)


async def list_plans(call: Call) -> list[Plan]:
    return await costs.list_plans(call.app[POOL], compound_id=compound(call), cost_id=cost(call))


async def compare(call: Call) -> Comparison:
    return await costs.compare(call.app[POOL], compound_id=compound(call), cost_id=cost(call),
                               query=call.query)


async def adopt(call: Call) -> Plan:
    return await costs.adopt(call.app[POOL], compound_id=compound(call), cost_id=cost(call),
                             plan_id=call.uuid_param("plan_id", "分摊方案"), by=call.who.subject)


async def issue_bills(call: Call) -> Bill:
    return await costs.issue_bills(call.app[POOL], compound_id=compound(call), cost_id=cost(call),
                                   data=call.body, by=call.who.subject)


async def get_bill(call: Call) -> Bill:
    period = call.param("period")
    return await costs.get_bill(call.app[POOL], compound_id=compound(call), cost_id=cost(call),
                                period=period)


async def list_bills(call: Call) -> list[Bill]:
    return await costs.list_bills(call.app[POOL], compound_id=compound(call), cost_id=cost(call))
