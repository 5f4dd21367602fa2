"""HTTP views of volunteers: parse → use case → response; no SQL here."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from linli import problems
from linli.clients import ServiceClient
from linli.http import POOL, Call
from linli.pagination import Page
from services.volunteers import care, ledger, orders, service
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

DIRECTORY = web.AppKey("volunteers.directory", ServiceClient)
SEEDED = web.AppKey("volunteers.seeded", set[uuid.UUID])
# Units the directory confirmed (it never deletes a unit): one HTTP hop per unit, not per order.
KNOWN_UNITS = web.AppKey("volunteers.known_units", set[tuple[uuid.UUID, uuid.UUID]])


def _compound(call: Call) -> uuid.UUID:
    return call.uuid_param("compound_id", "小区")


async def _directory(app: web.Application, path: str, field: str, what: str) -> object:
    """GET from the directory; its 404 means the caller named something that does not exist."""
    return await app[DIRECTORY].get_or(path, problems.validation(f"{what}不存在", field=field))


async def ensure_seeded(app: web.Application, compound_id: uuid.UUID) -> None:
    """The compound exists in the directory; its default skills exist here (first use)."""
    if compound_id in app[SEEDED]:
        return
    await app[DIRECTORY].get_or(f"/v1/compounds/{compound_id}", problems.not_found("小区"))
    await service.seed_skills(app[POOL], compound_id=compound_id)
    app[SEEDED].add(compound_id)


async def check_unit(app: web.Application, compound_id: uuid.UUID, unit_id: uuid.UUID) -> None:
    known = app[KNOWN_UNITS]
    if (compound_id, unit_id) in known:
        return
    await _directory(app, f"/v1/compounds/{compound_id}/units/{unit_id}", "unit_id",
                     "该小区的这个房屋")
    if len(known) > 100_000:  # bounded memory; a miss only costs one directory call
        known.clear()
    known.add((compound_id, unit_id))


async def check_team(app: web.Application, compound_id: uuid.UUID, team_id: uuid.UUID) -> None:
    """The team is one of the compound's volunteer_team organisations in the directory."""
    roster = await app[DIRECTORY].get(f"/v1/compounds/{compound_id}/roster")
    teams = {e["organisation"]["id"] for e in roster
             if e["organisation"]["kind"] == "volunteer_team"}
    if str(team_id) not in teams:
        raise problems.validation("该小区没有这支志愿服务队", field="team_id")


# ---------------------------------------------------------------- skills and volunteers


async def list_skills(call: Call) -> list[Skill]:
    cid = _compound(call)
    await ensure_seeded(call.app, cid)
    return await service.list_skills(call.app[POOL], compound_id=cid)


async def put_skill(call: Call) -> Skill:
    cid = _compound(call)
    code = call.param("code")
    if not service.valid_code(code):
        raise problems.validation("技能代码须为小写字母、数字和下划线", field="code")
    await ensure_seeded(call.app, cid)
    return await service.put_skill(call.app[POOL], compound_id=cid, code=code, data=call.body)


async def register(call: Call) -> Volunteer:
    cid = _compound(call)
    await ensure_seeded(call.app, cid)
    person_id = service.registrant(call.who, call.body)
    person = await _directory(call.app, f"/v1/people/{person_id}", "person_id", "该人员")
    assert isinstance(person, dict)
    if call.body.team_id is not None:
        await check_team(call.app, cid, call.body.team_id)
    return await service.register(call.app[POOL], compound_id=cid, who=call.who,
                                  person_id=person_id, name=person["name"], data=call.body)


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
    cid = _compound(call)
    if call.body.team_id is not None:
        await check_team(call.app, cid, call.body.team_id)
    return await service.update(call.app[POOL], compound_id=cid,
                                volunteer_id=call.uuid_param("volunteer_id", "志愿者"),
                                who=call.who, data=call.body)


async def suspend(call: Call) -> Volunteer:
    return await service.suspend(call.app[POOL], compound_id=_compound(call),
                                 volunteer_id=call.uuid_param("volunteer_id", "志愿者"),
                                 who=call.who, reason=call.body.reason)


# ---------------------------------------------------------------- the menu


async def publish(call: Call) -> MenuItem:
    cid = _compound(call)
    await ensure_seeded(call.app, cid)
    return await service.publish(call.app[POOL], compound_id=cid, who=call.who, data=call.body)


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
    cid = _compound(call)
    orders.orderer(call.who, call.body)
    await check_unit(call.app, cid, call.body.unit_id)
    return await orders.place(call.app[POOL], compound_id=cid, who=call.who, data=call.body)


async def list_orders(call: Call) -> Page[Order]:
    return await orders.list_orders(call.app[POOL], compound_id=_compound(call), who=call.who,
                                    query=call.query)


async def get_order(call: Call) -> Order:
    return await orders.get_order(call.app[POOL], compound_id=_compound(call),
                                  order_id=_order(call), who=call.who)


async def order_history(call: Call) -> list[HistoryEntry]:
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


async def ledger_csv(call: Call) -> web.Response:
    cid = _compound(call)
    text = await ledger.export(call.app[POOL], compound_id=cid)
    return web.Response(body=text.encode("utf-8"), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition":
                                 f'attachment; filename="volunteer-ledger-{cid}.csv"'})


# ---------------------------------------------------------------- recurring care


def _plan(call: Call) -> uuid.UUID:
    return call.uuid_param("plan_id", "关爱计划")


async def create_plan(call: Call) -> CarePlan:
    cid = _compound(call)
    await ensure_seeded(call.app, cid)
    await check_unit(call.app, cid, call.body.unit_id)
    return await care.create_plan(call.app[POOL], compound_id=cid, who=call.who, data=call.body)


async def list_plans(call: Call) -> list[CarePlan]:
    return await care.list_plans(call.app[POOL], compound_id=_compound(call), who=call.who,
                                 volunteer_id=call.query.volunteer_id)


async def get_plan(call: Call) -> CarePlan:
    return await care.get_plan(call.app[POOL], compound_id=_compound(call), plan_id=_plan(call),
                               who=call.who)


async def end_plan(call: Call) -> CarePlan:
    return await care.end_plan(call.app[POOL], compound_id=_compound(call), plan_id=_plan(call),
                               who=call.who)


async def plan_visits(call: Call) -> list[CareVisit]:
    return await care.visits(call.app[POOL], compound_id=_compound(call), plan_id=_plan(call),
                             who=call.who)


async def record_visit(call: Call) -> CareVisit:
    return await care.record(call.app[POOL], compound_id=_compound(call), plan_id=_plan(call),
                             visit_id=call.uuid_param("visit_id", "探访"), who=call.who,
                             data=call.body)


async def miss_visit(call: Call) -> CareVisit:
    return await care.miss(call.app[POOL], compound_id=_compound(call), plan_id=_plan(call),
                           visit_id=call.uuid_param("visit_id", "探访"))


async def care_flags(call: Call) -> list[CareVisit]:
    return await care.flags(call.app[POOL], compound_id=_compound(call))


async def acknowledge(call: Call) -> CareVisit:
    return await care.acknowledge(call.app[POOL], compound_id=_compound(call),
                                  visit_id=call.uuid_param("visit_id", "探访"), who=call.who)
