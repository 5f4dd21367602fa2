"""CSV import of units and owners: all rows or none, every bad row reported by its line number.

Columns: building,floors,floor,number,area,status,owners — `owners` lists 姓名:手机号 pairs
separated by ';' (co-owners), empty for unsold units. A building is created when new.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from linli import problems
from linli.bus import emit
from linli.db import Connection, Pool, transaction
from linli.problems import Problem
from linli.uploads import BadLines, data_lines
from services.directory import events, store
from services.directory.models import BuildingIn, ImportResult, PersonIn, UnitIn
from services.directory.service import add_person, add_unit

COLUMNS = ["building", "floors", "floor", "number", "area", "status", "owners"]


class Line(msgspec.Struct):
    building: BuildingIn
    unit: dict[str, Any]
    owners: list[PersonIn]


def _parse_owners(text: str) -> list[PersonIn]:
    owners = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, _, phone = part.partition(":")
        owners.append(msgspec.convert({"name": name.strip(), "phone": phone.strip() or None},
                                      PersonIn))
    return owners


def parse_line(row: dict[str, str]) -> Line:
    """One CSV row into validated parts; raises ValueError/ValidationError."""
    building = msgspec.convert({"name": row["building"], "floors": row["floors"]}, BuildingIn,
                               strict=False)
    unit = {"floor": row["floor"], "number": row["number"], "area": row["area"],
            "status": row["status"] or "delivered"}
    return Line(building=building, unit=unit, owners=_parse_owners(row.get("owners") or ""))


def parse_csv(text: str) -> list[tuple[int, Line]]:
    """All lines, or one 422 listing every bad line (line 1 is the header)."""
    bad = BadLines(unwritten="数据")
    lines = []
    for number, cells in data_lines(text, COLUMNS):
        try:
            if len(cells) != len(COLUMNS):
                raise ValueError("列数与表头不一致")
            lines.append((number, parse_line(dict(zip(COLUMNS, cells, strict=True)))))
        except (ValueError, msgspec.ValidationError) as exc:
            bad.add(number, str(exc))
    bad.check()
    if not lines:
        raise problems.validation("CSV 没有数据行")
    return lines


async def _building_id(conn: Connection, compound_id: uuid.UUID, data: BuildingIn,
                       result: ImportResult) -> uuid.UUID:
    found = await store.find_building(conn, compound_id=compound_id, name=data.name)
    if found is not None:
        return found["id"]
    row = await store.insert_building(conn, id=uuid.uuid4(), compound_id=compound_id,
                                      name=data.name, floors=data.floors)
    await emit(conn, events.BUILDING_CREATED, subject=str(row["id"]), compound_id=str(compound_id),
               data=events.BuildingCreated(building_id=row["id"], compound_id=compound_id,
                                           name=data.name))
    result.buildings_created += 1
    return row["id"]


async def _person_id(conn: Connection, owner: PersonIn, result: ImportResult) -> uuid.UUID:
    if owner.phone is not None:
        found = await store.find_person_by_phone(conn, phone=owner.phone)
        if found is not None:
            return found["id"]
    result.people_created += 1
    return (await add_person(conn, data=owner)).id


async def _import_line(conn: Connection, compound_id: uuid.UUID, line: Line,
                       result: ImportResult) -> None:
    building_id = await _building_id(conn, compound_id, line.building, result)
    data = msgspec.convert({**line.unit, "building_id": str(building_id)}, UnitIn, strict=False)
    unit = await add_unit(conn, compound_id=compound_id, data=data)
    result.units_created += 1
    owner_ids = [await _person_id(conn, owner, result) for owner in line.owners]
    for person_id in owner_ids:
        await store.add_owner(conn, unit_id=unit.id, person_id=person_id)
        result.ownerships_created += 1
    if owner_ids:
        await emit(conn, events.UNIT_OWNERS_CHANGED, subject=str(unit.id),
                   compound_id=str(compound_id),
                   data=events.UnitOwnersChanged(unit_id=unit.id, compound_id=compound_id,
                                                 owner_ids=sorted(set(owner_ids), key=str)))


async def import_units(pool: Pool, *, compound_id: uuid.UUID, text: str) -> ImportResult:
    """Import every line in one transaction; any failure writes nothing."""
    lines = parse_csv(text)
    result = ImportResult(buildings_created=0, units_created=0, people_created=0,
                          ownerships_created=0)
    async with transaction(pool) as conn:
        if await store.get_compound(conn, id=compound_id) is None:
            raise problems.not_found("小区")
        bad = BadLines(unwritten="数据")
        for number, line in lines:
            try:
                async with conn.transaction():  # a savepoint: the next lines are still checked
                    await _import_line(conn, compound_id, line, result)
            except Problem as exc:
                bad.add(number, exc.detail)
            except msgspec.ValidationError as exc:
                bad.add(number, str(exc))
        bad.check()
        await emit(conn, events.UNITS_IMPORTED, subject=str(compound_id), compound_id=str(compound_id),
                   data=events.UnitsImported(compound_id=compound_id,
                                             units_created=result.units_created,
                                             ownerships_created=result.ownerships_created))
    return result
