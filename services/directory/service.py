"""Directory use cases: one transaction each; every change others may care about is an event."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import msgspec

from linli import problems
from linli.auth import Principal
from linli.bus import emit
from linli.db import Connection, Pool, transaction
from linli.pagination import Page, PageQuery, decode_cursor, keyset, page_of
from services.directory import events, privacy, store
from services.directory.models import (
    ORGANISATION_LABELS,
    Building,
    BuildingIn,
    Compound,
    CompoundIn,
    CompoundPatch,
    Household,
    HouseholdIn,
    Organisation,
    OrganisationIn,
    Person,
    PersonIn,
    Resident,
    ResidentIn,
    Role,
    RoleIn,
    Roll,
    RosterEntry,
    Unit,
    UnitIn,
    UnitPatch,
    UnitQuery,
    area_to_centi,
    centi_to_area,
)
from services.directory.roll import RollUnit, build_roll


def to_unit(row: Any, owners_of: Callable[[list[uuid.UUID]], list[uuid.UUID]] = list) -> Unit:
    """`owners_of` filters the owners the caller may see (all of them for the register)."""
    return Unit(id=row["id"], compound_id=row["compound_id"], building_id=row["building_id"],
                floor=row["floor"], number=row["number"], area=centi_to_area(row["area_centi"]),
                area_centi=row["area_centi"], status=row["status"],
                owner_ids=owners_of(list(row["owner_ids"])))


def to_organisation(row: Any) -> Organisation:
    return Organisation(id=row["id"], compound_id=row["compound_id"], kind=row["kind"],
                        kind_label=ORGANISATION_LABELS[row["kind"]], name=row["name"])


async def _require(conn: Connection, fetch: Any, what: str, **key: Any) -> Any:
    row = await fetch(conn, **key)
    if row is None:
        raise problems.not_found(what)
    return row


async def _compound_row(conn: Connection, compound_id: uuid.UUID) -> Any:
    return await _require(conn, store.get_compound, "小区", id=compound_id)


async def _in_compound(conn: Connection, fetch: Any, what: str, compound_id: uuid.UUID,
                       id: uuid.UUID) -> Any:
    row = await fetch(conn, id=id)
    if row is None or row["compound_id"] != compound_id:
        raise problems.not_found(what)
    return row


# ---------------------------------------------------------------- compounds and buildings


async def create_compound(pool: Pool, *, data: CompoundIn) -> Compound:
    async with transaction(pool) as conn:
        row = await store.insert_compound(conn, id=uuid.uuid4(), fields=msgspec.to_builtins(data))
        await emit(conn, events.COMPOUND_CREATED, subject=str(row["id"]), compound_id=str(row["id"]),
                   data=events.CompoundCreated(compound_id=row["id"], name=row["name"],
                                               community=row["community"], street=row["street"]))
    return msgspec.convert(dict(row), Compound)


async def update_compound(pool: Pool, *, compound_id: uuid.UUID, patch: CompoundPatch) -> Compound:
    fields = {k: v for k, v in msgspec.to_builtins(patch).items() if v is not None}
    if not fields:
        raise problems.validation("没有要修改的字段")
    async with transaction(pool) as conn:
        row = await store.update_compound(conn, id=compound_id, fields=fields)
        if row is None:
            raise problems.not_found("小区")
        await emit(conn, events.COMPOUND_UPDATED, subject=str(compound_id),
                   compound_id=str(compound_id),
                   data=events.CompoundUpdated(compound_id=compound_id, name=row["name"]))
    return msgspec.convert(dict(row), Compound)


async def get_compound(pool: Pool, *, compound_id: uuid.UUID) -> Compound:
    async with pool.acquire() as conn:
        return msgspec.convert(dict(await _compound_row(conn, compound_id)), Compound)


async def list_compounds(pool: Pool, *, only: list[uuid.UUID] | None, cursor: str | None,
                         limit: int) -> Page[Compound]:
    after = decode_cursor(cursor)
    async with pool.acquire() as conn:
        rows = await store.list_compounds(conn, only=only, limit=limit + 1,
                                          after=uuid.UUID(after[0]) if after else None)
    items = [msgspec.convert(dict(r), Compound) for r in rows]
    return page_of(items, limit, lambda c: [str(c.id)])


async def create_building(pool: Pool, *, compound_id: uuid.UUID, data: BuildingIn) -> Building:
    async with transaction(pool) as conn:
        await _compound_row(conn, compound_id)
        row = await store.insert_building(conn, id=uuid.uuid4(), compound_id=compound_id,
                                          name=data.name, floors=data.floors)
        if row is None:
            raise problems.conflict(f"楼栋 {data.name} 已存在")
        await emit(conn, events.BUILDING_CREATED, subject=str(row["id"]), compound_id=str(compound_id),
                   data=events.BuildingCreated(building_id=row["id"], compound_id=compound_id,
                                               name=data.name))
    return msgspec.convert(dict(row), Building)


async def list_buildings(pool: Pool, *, compound_id: uuid.UUID,
                         query: PageQuery) -> Page[Building]:
    after = keyset(query.cursor, str)
    async with pool.acquire() as conn:
        await _compound_row(conn, compound_id)
        rows = await store.list_buildings(conn, compound_id=compound_id,
                                          after=after[0] if after else None,
                                          limit=query.limit + 1)
    return page_of([msgspec.convert(dict(r), Building) for r in rows], query.limit,
                   lambda b: [b.name])


# ---------------------------------------------------------------- units and owners


async def add_unit(conn: Connection, *, compound_id: uuid.UUID, data: UnitIn) -> Unit:
    """Register an exclusive part inside the caller's transaction (API and CSV import)."""
    building = await _in_compound(conn, store.get_building, "楼栋", compound_id, data.building_id)
    if data.floor > building["floors"]:
        raise problems.validation(f"楼层 {data.floor} 超过该楼栋的 {building['floors']} 层",
                                  field="floor")
    unit_id = uuid.uuid4()
    if not await store.insert_unit(conn, id=unit_id, compound_id=compound_id,
                                   building_id=data.building_id, floor=data.floor,
                                   number=data.number, area_centi=area_to_centi(data.area),
                                   status=data.status):
        raise problems.conflict(f"{building['name']} 已有房号 {data.number}")
    unit = to_unit(await store.get_unit(conn, id=unit_id))
    await _emit_unit(conn, events.UNIT_CREATED, unit)
    return unit


async def _emit_unit(conn: Connection, kind: Any, unit: Unit) -> None:
    await emit(conn, kind, subject=str(unit.id), compound_id=str(unit.compound_id),
               data=events.UnitChanged(unit_id=unit.id, compound_id=unit.compound_id,
                                       building_id=unit.building_id, number=unit.number,
                                       area_centi=unit.area_centi, status=unit.status))


async def create_unit(pool: Pool, *, compound_id: uuid.UUID, data: UnitIn) -> Unit:
    async with transaction(pool) as conn:
        return await add_unit(conn, compound_id=compound_id, data=data)


async def update_unit(pool: Pool, *, compound_id: uuid.UUID, unit_id: uuid.UUID,
                      patch: UnitPatch) -> Unit:
    if patch.area is None and patch.status is None:
        raise problems.validation("没有要修改的字段")
    async with transaction(pool) as conn:
        await _in_compound(conn, store.get_unit, "专有部分", compound_id, unit_id)
        await store.update_unit(conn, id=unit_id, status=patch.status,
                                area_centi=area_to_centi(patch.area) if patch.area else None)
        unit = to_unit(await store.get_unit(conn, id=unit_id))
        await _emit_unit(conn, events.UNIT_UPDATED, unit)
    return unit


async def get_unit(pool: Pool, *, compound_id: uuid.UUID, unit_id: uuid.UUID,
                   who: Principal) -> Unit:
    async with pool.acquire() as conn:
        row = await _in_compound(conn, store.get_unit, "专有部分", compound_id, unit_id)
    return to_unit(row, privacy.owners_seen_by(who))


async def list_units(pool: Pool, *, compound_id: uuid.UUID, query: UnitQuery,
                     who: Principal) -> Page[Unit]:
    after = decode_cursor(query.cursor)
    async with pool.acquire() as conn:
        await _compound_row(conn, compound_id)
        rows = await store.list_units(conn, compound_id=compound_id, building_id=query.building_id,
                                      after=uuid.UUID(after[0]) if after else None,
                                      limit=query.limit + 1)
    owners_of = privacy.owners_seen_by(who)
    return page_of([to_unit(r, owners_of) for r in rows], query.limit, lambda u: [str(u.id)])


async def change_owner(pool: Pool, *, compound_id: uuid.UUID, unit_id: uuid.UUID,
                       person_id: uuid.UUID, add: bool) -> Unit:
    """Add or remove one owner of a unit (co-owners are several owners of one unit)."""
    async with transaction(pool) as conn:
        await _in_compound(conn, store.get_unit, "专有部分", compound_id, unit_id)
        await _require(conn, store.get_person, "人员", id=person_id)
        if add:
            changed = await store.add_owner(conn, unit_id=unit_id, person_id=person_id)
        else:
            changed = await store.remove_owner(conn, unit_id=unit_id, person_id=person_id)
            if not changed:
                raise problems.not_found("该业主登记")
        unit = to_unit(await store.get_unit(conn, id=unit_id))
        if changed:
            await emit(conn, events.UNIT_OWNERS_CHANGED, subject=str(unit_id),
                       compound_id=str(compound_id),
                       data=events.UnitOwnersChanged(unit_id=unit_id, compound_id=compound_id,
                                                     owner_ids=unit.owner_ids))
    return unit


# ---------------------------------------------------------------- people and households


async def add_person(conn: Connection, *, data: PersonIn) -> Person:
    """Register a person inside the caller's transaction; a phone is registered once."""
    person_id = uuid.uuid4()
    try:
        async with conn.transaction():
            await store.insert_person(conn, id=person_id, name=data.name, phone=data.phone)
    except asyncpg.UniqueViolationError:
        raise problems.conflict(f"手机号 {privacy.mask_phone(data.phone)} 已登记") from None
    await emit(conn, events.PERSON_CREATED, subject=str(person_id),
               data=events.PersonCreated(person_id=person_id, name=data.name))
    return Person(id=person_id, name=data.name, phone=data.phone)


async def create_person(pool: Pool, *, data: PersonIn) -> Person:
    async with transaction(pool) as conn:
        return await add_person(conn, data=data)


async def get_person(pool: Pool, *, person_id: uuid.UUID, who: Principal) -> Person:
    async with pool.acquire() as conn:
        row = await _require(conn, store.get_person, "人员", id=person_id)
        where = await store.person_compounds(conn, id=person_id)
    return Person(id=row["id"], name=row["name"], phone=privacy.phone_for(who, person_id, row, where))


async def _household(conn: Connection, household_id: uuid.UUID) -> Household:
    row = await store.get_household(conn, id=household_id)
    residents = await store.list_residents(conn, household_ids=[household_id])
    return Household(id=row["id"], compound_id=row["compound_id"], unit_id=row["unit_id"],
                     name=row["name"],
                     residents=[Resident(person_id=r["person_id"], relation=r["relation"])
                                for r in residents])


async def _emit_household(conn: Connection, household: Household) -> None:
    await emit(conn, events.HOUSEHOLD_CHANGED, subject=str(household.id),
               compound_id=str(household.compound_id),
               data=events.HouseholdChanged(household_id=household.id,
                                            compound_id=household.compound_id,
                                            unit_id=household.unit_id,
                                            resident_ids=[r.person_id for r in household.residents]))


async def create_household(pool: Pool, *, compound_id: uuid.UUID, data: HouseholdIn) -> Household:
    async with transaction(pool) as conn:
        await _in_compound(conn, store.get_unit, "专有部分", compound_id, data.unit_id)
        household_id = uuid.uuid4()
        await store.insert_household(conn, id=household_id, compound_id=compound_id,
                                     unit_id=data.unit_id, name=data.name)
        household = await _household(conn, household_id)
        await _emit_household(conn, household)
    return household


async def add_resident(pool: Pool, *, compound_id: uuid.UUID, household_id: uuid.UUID,
                       data: ResidentIn) -> Household:
    async with transaction(pool) as conn:
        await _in_compound(conn, store.get_household, "住户", compound_id, household_id)
        await _require(conn, store.get_person, "人员", id=data.person_id)
        if not await store.add_resident(conn, household_id=household_id,
                                        person_id=data.person_id, relation=data.relation):
            raise problems.conflict("该人员已是这一户的成员")
        household = await _household(conn, household_id)
        await _emit_household(conn, household)
    return household


async def remove_resident(pool: Pool, *, compound_id: uuid.UUID, household_id: uuid.UUID,
                          person_id: uuid.UUID) -> Household:
    """A resident moved out: no longer one of the compound's people through this household."""
    async with transaction(pool) as conn:
        await _in_compound(conn, store.get_household, "住户", compound_id, household_id)
        if not await store.remove_resident(conn, household_id=household_id, person_id=person_id):
            raise problems.not_found("该住户成员")
        household = await _household(conn, household_id)
        await _emit_household(conn, household)
    return household


async def list_households(pool: Pool, *, compound_id: uuid.UUID,
                          query: PageQuery) -> Page[Household]:
    """One page by name, each household with its residents (one query for the page)."""
    after = keyset(query.cursor, str, uuid.UUID)
    async with pool.acquire() as conn:
        await _compound_row(conn, compound_id)
        rows = await store.list_households(conn, compound_id=compound_id,
                                           after=(after[0], after[1]) if after else None,
                                           limit=query.limit + 1)
    households = [Household(id=r["id"], compound_id=r["compound_id"], unit_id=r["unit_id"],
                            name=r["name"],
                            residents=[Resident(person_id=p, relation=rel) for p, rel
                                       in zip(r["person_ids"], r["relations"], strict=True)])
                  for r in rows]
    return page_of(households, query.limit, lambda h: [h.name, str(h.id)])


# ---------------------------------------------------------------- the roll


async def electoral_roll(pool: Pool, *, compound_id: uuid.UUID) -> Roll:
    """The owners' roll of a compound with its totals, as meetings will freeze it."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        await _compound_row(conn, compound_id)
        rows = await store.list_units(conn, compound_id=compound_id, building_id=None,
                                      after=None, limit=None)
    entries = build_roll(
        RollUnit(unit_id=r["id"], area_centi=r["area_centi"], status=r["status"],
                 owner_ids=tuple(r["owner_ids"]))
        for r in rows
    )
    total_area = sum(e.area_centi for e in entries)
    return Roll(compound_id=compound_id, total_area_centi=total_area,
                total_area=centi_to_area(total_area),
                total_headcount=sum(e.headcount for e in entries), entries=entries)



# ---------------------------------------------------------------- 1+3+N organisations and roles


async def create_organisation(pool: Pool, *, compound_id: uuid.UUID,
                              data: OrganisationIn) -> Organisation:
    async with transaction(pool) as conn:
        await _compound_row(conn, compound_id)
        org_id = uuid.uuid4()
        if not await store.insert_organisation(conn, id=org_id, compound_id=compound_id,
                                               kind=data.kind, name=data.name):
            raise problems.conflict(f"组织 {data.name} 已存在")
        await emit(conn, events.ORGANISATION_CREATED, subject=str(org_id),
                   compound_id=str(compound_id),
                   data=events.OrganisationCreated(organisation_id=org_id, compound_id=compound_id,
                                                   kind=data.kind, name=data.name))
    return Organisation(id=org_id, compound_id=compound_id, kind=data.kind,
                        kind_label=ORGANISATION_LABELS[data.kind], name=data.name)


async def _emit_role(conn: Connection, kind: Any, role: Role, org: Any) -> None:
    await emit(conn, kind, subject=str(role.id), compound_id=str(org["compound_id"]),
               data=events.RoleChanged(role_id=role.id, organisation_id=org["id"],
                                       compound_id=org["compound_id"], person_id=role.person_id,
                                       title=role.title, kind=org["kind"],
                                       ends_on=role.ends_on.isoformat() if role.ends_on else None))


async def assign_role(pool: Pool, *, compound_id: uuid.UUID, organisation_id: uuid.UUID,
                      data: RoleIn) -> Role:
    if data.ends_on is not None and data.ends_on < data.starts_on:
        raise problems.validation("结束日期不能早于开始日期", field="ends_on")
    async with transaction(pool) as conn:
        org = await _in_compound(conn, store.get_organisation, "组织", compound_id, organisation_id)
        await _require(conn, store.get_person, "人员", id=data.person_id)
        role_id = uuid.uuid4()
        await store.insert_role(conn, id=role_id, organisation_id=organisation_id,
                                person_id=data.person_id, title=data.title,
                                starts_on=data.starts_on, ends_on=data.ends_on)
        role = msgspec.convert(dict(await store.get_role(conn, id=role_id)), Role)
        await _emit_role(conn, events.ROLE_ASSIGNED, role, org)
    return role


async def end_role(pool: Pool, *, compound_id: uuid.UUID, role_id: uuid.UUID,
                   ends_on: dt.date) -> Role:
    async with transaction(pool) as conn:
        row = await _require(conn, store.get_role, "职务", id=role_id)
        org = await _in_compound(conn, store.get_organisation, "职务", compound_id,
                                 row["organisation_id"])
        if ends_on < row["starts_on"]:
            raise problems.validation("结束日期不能早于开始日期", field="ends_on")
        await store.end_role(conn, id=role_id, ends_on=ends_on)
        role = msgspec.convert(dict(await store.get_role(conn, id=role_id)), Role)
        await _emit_role(conn, events.ROLE_ENDED, role, org)
    return role


async def roster(pool: Pool, *, compound_id: uuid.UUID, on: dt.date | None,
                 query: PageQuery) -> Page[RosterEntry]:
    """A page of the compound's organisations (by kind, then name) with the people in them
    (current ones when `on` is set)."""
    after = keyset(query.cursor, str, str)
    async with pool.acquire() as conn:
        await _compound_row(conn, compound_id)
        orgs = await store.list_organisations(conn, compound_id=compound_id,
                                              after=(after[0], after[1]) if after else None,
                                              limit=query.limit + 1)
        roles = await store.list_roles(conn, organisation_ids=[o["id"] for o in orgs], on=on)
    by_org: dict[uuid.UUID, list[Role]] = {}
    for r in roles:
        by_org.setdefault(r["organisation_id"], []).append(msgspec.convert(dict(r), Role))
    entries = [RosterEntry(organisation=to_organisation(o), roles=by_org.get(o["id"], []))
               for o in orgs]
    return page_of(entries, query.limit,
                   lambda e: [e.organisation.kind, e.organisation.name])
