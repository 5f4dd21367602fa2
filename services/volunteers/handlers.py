"""HTTP views of volunteers: parse → use case → response; no SQL here."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from linli.http import POOL, REQUEST_ID, Call
from linli.pagination import Page
from services.volunteers import care, ledger, orders, service
from services.volunteers.keys import DIRECTORY
from services.volunteers.models import (
    CarePlan,
    CareVisit,
    HistoryEntry,
    LedgerEntry,
    LedgerStats,
    MenuItem,
    Order,
    Skill,
    Volunteer,
)


def _compound(call: Call) -> uuid.UUID:
    return call.uuid_param("compound_id", "小区")


# ---------------------------------------------------------------- skills and volunteers


async def list_skills(call: Call) -> Page[Skill]:
    return await service.list_skills(call.app[POOL], call.app[DIRECTORY],
                                     compound_id=_compound(call))


async def put_skill(call: Call) -> Skill:
    return await service.put_skill(call.app[POOL], call.app[DIRECTORY], compound_id=_compound(call),
                                   code=call.param("code"), data=call.body)


async def register(call: Call) -> Volunteer:
    return await service.register(call.app[POOL], call.app[DIRECTORY], compound_id=_compound(call),
                                  who=call.who, data=call.body)


async def list_volunteers(call: Call) -> Page[Volunteer]:
    return await service.list_volunteers(call.app[POOL], compound_id=_compound(call),
                                         query=call.query)


async def get_volunteer(call: Call) -> Volunteer:
    return await service.get_volunteer(call.app[POOL], compound_id=_compound(call),
                                       volunteer_id=call.uuid_param("volunteer_id", "志愿者"))


async def verify(call: Call) -> Volunteer:
    return await service.verify(call.app[POOL], compound_id=_compound(call),
                                volunteer_id=call.uuid_param("volunteer_id", "志愿者"),
                                who=call.who)


async def update_volunteer(call: Call) -> Volunteer:
    return await service.update(call.app[POOL], call.app[DIRECTORY], compound_id=_compound(call),
                                volunteer_id=call.uuid_param("volunteer_id", "志愿者"),
                                who=call.who, data=call.body)


async def suspend(call: Call) -> Volunteer:
    return await service.suspend(call.app[POOL], compound_id=_compound(call),
                                 volunteer_id=call.uuid_param("volunteer_id", "志愿者"),
                                 who=call.who, reason=call.body.reason)


# ---------------------------------------------------------------- the menu


async def publish(call: Call) -> MenuItem:
    return await service.publish(call.app[POOL], call.app[DIRECTORY], compound_id=_compound(call),
                                 who=call.who, data=call.body)


async def list_menu(call: Call) -> Page[MenuItem]:
    return await service.list_menu(call.app[POOL], compound_id=_compound(call), query=call.query)


async def get_item(call: Call) -> MenuItem:
    return await service.get_item(call.app[POOL], compound_id=_compound(call),
                                  item_id=call.uuid_param("item_id", "服务项目"))


async def withdraw(call: Call) -> MenuItem:
    return await service.withdraw(call.app[POOL], compound_id=_compound(call),
                                  item_id=call.uuid_param("item_id", "服务项目"), who=call.who)


# ---------------------------------------------------------------- orders


def _order(call: Call) -> uuid.UUID:
    return call.uuid_param("order_id", "订单")


async def place(call: Call) -> Order:
    return await orders.place(call.app[POOL], call.app[DIRECTORY], compound_id=_compound(call),
                              who=call.who, data=call.body)


async def list_orders(call: Call) -> Page[Order]:
    return await orders.list_orders(call.app[POOL], compound_id=_compound(call), who=call.who,
                                    query=call.query)


async def get_order(call: Call) -> Order:
    return await orders.get_order(call.app[POOL], compound_id=_compound(call),
                                  order_id=_order(call), who=call.who)


async def order_history(call: Call) -> Page[HistoryEntry]:
    return await orders.history(call.app[POOL], compound_id=_compound(call),
                                order_id=_order(call), who=call.who)


def action(name: str) -> Callable[[Call], Awaitable[Order]]:
    """The view of one order action (accept, assign, decline, start, complete, rate, cancel)."""

    async def view(call: Call) -> Order:
        return await orders.act(call.app[POOL], compound_id=_compound(call),
                                order_id=_order(call), who=call.who, action=name,
                                body=call.body)

    view.__name__ = f"order_{name}"
    return view


# ---------------------------------------------------------------- ledger


async def ledger_entries(call: Call) -> Page[LedgerEntry]:
    return await ledger.entries(call.app[POOL], compound_id=_compound(call), query=call.query)


async def ledger_stats(call: Call) -> LedgerStats:
    return await ledger.stats(call.app[POOL], compound_id=_compound(call))


async def ledger_csv(call: Call) -> web.StreamResponse:
    """The CSV streamed as it is read (chunked): a ledger of any length in constant memory."""
    cid = _compound(call)
    response = web.StreamResponse(headers={
        "Content-Disposition": f'attachment; filename="volunteer-ledger-{cid}.csv"',
        "X-Request-Id": call.request[REQUEST_ID]})
    response.content_type, response.charset = "text/csv", "utf-8"

    async def write(chunk: bytes) -> None:
        if not response.prepared:  # headers go out with the first piece, after the checks
            await response.prepare(call.request)
        await response.write(chunk)

    await ledger.export(call.app[POOL], compound_id=cid, write=write)
    await response.write_eof()
    return response


# ---------------------------------------------------------------- recurring care


def _plan(call: Call) -> uuid.UUID:
    return call.uuid_param("plan_id", "关爱计划")


async def create_plan(call: Call) -> CarePlan:
    return await care.create_plan(call.app[POOL], call.app[DIRECTORY], compound_id=_compound(call),
                                  who=call.who, data=call.body)


async def list_plans(call: Call) -> Page[CarePlan]:
    return await care.list_plans(call.app[POOL], compound_id=_compound(call), who=call.who,
                                 query=call.query)


async def get_plan(call: Call) -> CarePlan:
    return await care.get_plan(call.app[POOL], compound_id=_compound(call), plan_id=_plan(call),
                               who=call.who)


async def end_plan(call: Call) -> CarePlan:
    return await care.end_plan(call.app[POOL], compound_id=_compound(call), plan_id=_plan(call),
                               who=call.who)


async def plan_visits(call: Call) -> Page[CareVisit]:
    return await care.visits(call.app[POOL], compound_id=_compound(call), plan_id=_plan(call),
                             who=call.who, query=call.query)


async def record_visit(call: Call) -> CareVisit:
    return await care.record(call.app[POOL], compound_id=_compound(call), plan_id=_plan(call),
                             visit_id=call.uuid_param("visit_id", "探访"), who=call.who,
                             data=call.body)


async def miss_visit(call: Call) -> CareVisit:
    return await care.miss(call.app[POOL], compound_id=_compound(call), plan_id=_plan(call),
                           visit_id=call.uuid_param("visit_id", "探访"))


async def care_flags(call: Call) -> Page[CareVisit]:
    return await care.flags(call.app[POOL], compound_id=_compound(call), query=call.query)


async def acknowledge(call: Call) -> CareVisit:
    return await care.acknowledge(call.app[POOL], compound_id=_compound(call),
                                  visit_id=call.uuid_param("visit_id", "探访"), who=call.who)
