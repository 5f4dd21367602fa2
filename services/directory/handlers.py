"""HTTP views of the directory: parse → use case → response; no SQL here."""

from __future__ import annotations

import datetime as dt
import uuid

from linli.auth import ALL_COMPOUNDS
from linli.http import POOL, Call
from linli.pagination import Page, PageQuery
from linli.uploads import csv_text
from services.directory import identity, importing, members, service
from services.directory.models import (
    Building,
    Compound,
    Household,
    ImportResult,
    Organisation,
    Person,
    Role,
    Roll,
    RosterEntry,
    Unit,
)


class RosterQuery(PageQuery, kw_only=True):
    on: dt.date | None = None


def _compound(call: Call) -> uuid.UUID:
    return call.uuid_param("compound_id", "小区")


async def create_compound(call: Call) -> Compound:
    return await service.create_compound(call.app[POOL], data=call.body)


async def list_compounds(call: Call) -> Page[Compound]:
    q: PageQuery = call.query
    compounds = call.who.compounds
    only = None if ALL_COMPOUNDS in compounds else [
        uuid.UUID(c) for c in compounds if _is_uuid(c)
    ]
    return await service.list_compounds(call.app[POOL], only=only, cursor=q.cursor, limit=q.limit)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


async def get_compound(call: Call) -> Compound:
    return await service.get_compound(call.app[POOL], compound_id=_compound(call))


async def update_compound(call: Call) -> Compound:
    return await service.update_compound(call.app[POOL], compound_id=_compound(call),
                                         patch=call.body)


async def create_building(call: Call) -> Building:
    return await service.create_building(call.app[POOL], compound_id=_compound(call),
                                         data=call.body)


async def list_buildings(call: Call) -> Page[Building]:
    return await service.list_buildings(call.app[POOL], compound_id=_compound(call),
                                        query=call.query)


async def create_unit(call: Call) -> Unit:
    return await service.create_unit(call.app[POOL], compound_id=_compound(call), data=call.body)


async def list_units(call: Call) -> Page[Unit]:
    return await service.list_units(call.app[POOL], compound_id=_compound(call), query=call.query,
                                    who=call.who)


async def get_unit(call: Call) -> Unit:
    return await service.get_unit(call.app[POOL], compound_id=_compound(call),
                                  unit_id=call.uuid_param("unit_id", "专有部分"), who=call.who)


async def update_unit(call: Call) -> Unit:
    return await service.update_unit(call.app[POOL], compound_id=_compound(call),
                                     unit_id=call.uuid_param("unit_id", "专有部分"),
                                     patch=call.body)


async def add_owner(call: Call) -> Unit:
    return await service.change_owner(call.app[POOL], compound_id=_compound(call),
                                      unit_id=call.uuid_param("unit_id", "专有部分"),
                                      person_id=call.body.person_id, add=True)


async def remove_owner(call: Call) -> Unit:
    return await service.change_owner(call.app[POOL], compound_id=_compound(call),
                                      unit_id=call.uuid_param("unit_id", "专有部分"),
                                      person_id=call.uuid_param("person_id", "人员"), add=False)


async def import_units(call: Call) -> ImportResult:
    text = await csv_text(call.request)
    return await importing.import_units(call.app[POOL], compound_id=_compound(call), text=text)


async def create_person(call: Call) -> Person:
    return await service.create_person(call.app[POOL], data=call.body)


async def get_person(call: Call) -> Person:
    return await service.get_person(call.app[POOL], person_id=call.uuid_param("person_id", "人员"),
                                    who=call.who)


async def create_household(call: Call) -> Household:
    return await service.create_household(call.app[POOL], compound_id=_compound(call),
                                          data=call.body)


async def list_households(call: Call) -> Page[Household]:
    return await service.list_households(call.app[POOL], compound_id=_compound(call),
                                         query=call.query)


async def add_resident(call: Call) -> Household:
    return await service.add_resident(call.app[POOL], compound_id=_compound(call),
                                      household_id=call.uuid_param("household_id", "住户"),
                                      data=call.body)


async def remove_resident(call: Call) -> Household:
    return await service.remove_resident(call.app[POOL], compound_id=_compound(call),
                                         household_id=call.uuid_param("household_id", "住户"),
                                         person_id=call.uuid_param("person_id", "人员"))


async def create_organisation(call: Call) -> Organisation:
    return await service.create_organisation(call.app[POOL], compound_id=_compound(call),
                                             data=call.body)


async def assign_role(call: Call) -> Role:
    return await service.assign_role(call.app[POOL], compound_id=_compound(call),
                                     organisation_id=call.uuid_param("organisation_id", "组织"),
                                     data=call.body)


async def end_role(call: Call) -> Role:
    return await service.end_role(call.app[POOL], compound_id=_compound(call),
                                  role_id=call.uuid_param("role_id", "职务"),
                                  ends_on=call.body.ends_on)


async def roster(call: Call) -> Page[RosterEntry]:
    return await service.roster(call.app[POOL], compound_id=_compound(call), on=call.query.on,
                                query=call.query)


async def roll(call: Call) -> Roll:
    return await service.electoral_roll(call.app[POOL], compound_id=_compound(call))


async def compound_members(call: Call) -> members.Members:
    compound_id = _compound(call)
    call.require_compound(compound_id)
    return await members.members(call.app[POOL], compound_id=compound_id, query=call.body)


async def identity_by_phone(call: Call) -> identity.Identity:
    return await identity.identity(call.app[POOL], phone=call.query.phone)


async def identity_of(call: Call) -> identity.Identity:
    return await identity.identity(call.app[POOL],
                                   person_id=call.uuid_param("person_id", "人员"))
