"""CSV import of units and owners: all rows or none, every bad row reported by its line number.

Columns: building,floors,floor,number,area,status,owners — `owners` lists 姓名:手机号 pairs
separated by ';' (co-owners), empty for unsold units. A building is created when new; an owner
whose phone is registered is that person, any other owner a new person.

Every line is checked first (alone, then against the register, in file order, as if each line
were written before the next is checked); then one statement a kind writes the buildings, units,
people and ownerships of the whole upload, and the events follow a few thousand a statement, in
file order, in the same transaction.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import NamedTuple

import msgspec

from linli import problems
from linli.bus import EventsInOrder
from linli.db import Connection, Pool, transaction
from linli.events import CloudEvent
from linli.inputs import explain
from linli.uploads import BadLines, data_lines
from services.directory import events, privacy, store
from services.directory.models import BuildingIn, ImportResult, PersonIn, UnitIn, area_to_centi

COLUMNS = ["building", "floors", "floor", "number", "area", "status", "owners"]
# stands in for the unit's building while a line is checked alone (its id is known later)
_SOME_BUILDING = str(uuid.UUID(int=0))
# events built and written a statement at a time (a few MB of events, payloads and the
# statement's arguments), not the upload's 60,000 at once (bench/import_memory.py)
EVENTS_A_STATEMENT = 2_000


class Line(msgspec.Struct):
    number: int  # in the file (line 1 is the header)
    building: BuildingIn
    unit: UnitIn  # building_id is _SOME_BUILDING
    owners: list[PersonIn]


def _parse_owners(text: str) -> list[PersonIn]:
    owners = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, _, phone = part.partition(":")
        owners.append(msgspec.convert({"name": name.strip(), "phone": phone.strip() or None},
                                      PersonIn))
    return owners


def parse_line(number: int, row: dict[str, str]) -> Line:
    """One CSV row into validated parts; raises ValueError/ValidationError."""
    building = msgspec.convert({"name": row["building"], "floors": row["floors"]}, BuildingIn,
                               strict=False)
    owners = _parse_owners(row.get("owners") or "")
    unit = msgspec.convert({"building_id": _SOME_BUILDING, "floor": row["floor"],
                            "number": row["number"], "area": row["area"],
                            "status": row["status"] or "delivered"}, UnitIn, strict=False)
    return Line(number=number, building=building, unit=unit, owners=owners)


def parse_csv(text: str) -> list[Line]:
    """All lines, or one 422 listing every bad line."""
    bad = BadLines(unwritten="数据")
    lines = []
    for number, cells in data_lines(text, COLUMNS):
        try:
            if len(cells) != len(COLUMNS):
                raise ValueError("列数与表头不一致")
            lines.append(parse_line(number, dict(zip(COLUMNS, cells, strict=True))))
        except (ValueError, msgspec.ValidationError) as exc:
            bad.add(number, explain(exc))
    bad.check()
    if not lines:
        raise problems.validation("CSV 没有数据行")
    return lines


def check_against_register(lines: list[Line], floors: dict[str, int],
                           taken: set[tuple[str, str]]) -> None:
    """A unit above its building's floors (the registered building's, else those of the first
    good line naming it) or a number its building already has (registered, or an earlier line
    of the file): one 422 listing every such line."""
    bad = BadLines(unwritten="数据")
    floors, taken = dict(floors), set(taken)
    for line in lines:
        name, unit = line.building.name, line.unit
        known = floors.get(name, line.building.floors)
        if unit.floor > known:
            bad.add(line.number, f"楼层 {unit.floor} 超过该楼栋的 {known} 层")
        elif (name, unit.number) in taken:
            bad.add(line.number, f"{name} 已有房号 {unit.number}")
        else:
            floors.setdefault(name, known)
            taken.add((name, unit.number))
    bad.check()


class NewUnit(NamedTuple):
    id: uuid.UUID
    building_id: uuid.UUID
    line: Line
    area_centi: int
    owner_ids: list[uuid.UUID]  # the line's owners, in its order (a repeat twice)


class Upload:
    """The rows of one upload, planned in file order; `write` writes them, then their events."""

    def __init__(self, compound_id: uuid.UUID, buildings: dict[str, uuid.UUID],
                 people: dict[str, uuid.UUID]) -> None:
        self.compound_id = compound_id
        self.building_ids = dict(buildings)  # name → id, registered ones first
        self.person_ids = dict(people)  # phone → id, registered ones first
        self.buildings: list[tuple[uuid.UUID, str, int]] = []
        self.units: list[NewUnit] = []
        self.people: list[tuple[uuid.UUID, PersonIn, int]] = []
        self.owners: dict[tuple[uuid.UUID, uuid.UUID], None] = {}  # (unit, person), no repeats

    def _building(self, data: BuildingIn) -> uuid.UUID:
        found = self.building_ids.get(data.name)
        if found is None:
            found = self.building_ids[data.name] = uuid.uuid4()
            self.buildings.append((found, data.name, data.floors))
        return found

    def _person(self, owner: PersonIn, line: int) -> uuid.UUID:
        found = self.person_ids.get(owner.phone) if owner.phone is not None else None
        if found is None:
            found = uuid.uuid4()
            if owner.phone is not None:
                self.person_ids[owner.phone] = found
            self.people.append((found, owner, line))
        return found

    def add(self, line: Line) -> None:
        """One line's rows: its building and owners when new, its unit, its ownerships."""
        building_id = self._building(line.building)
        unit_id = uuid.uuid4()
        owner_ids = [self._person(owner, line.number) for owner in line.owners]
        self.units.append(NewUnit(unit_id, building_id, line, area_to_centi(line.unit.area),
                                  owner_ids))
        self.owners.update(((unit_id, person_id), None) for person_id in owner_ids)

    async def write(self, conn: Connection) -> ImportResult:
        """Every row in a few statements, then the events a chunk at a time; a row another
        transaction took meanwhile (a building name, a unit number, a phone) is a 409 or 422
        and nothing is written."""
        inserted = await store.insert_buildings(
            conn, compound_id=self.compound_id, ids=[b[0] for b in self.buildings],
            names=[b[1] for b in self.buildings], floors=[b[2] for b in self.buildings])
        if len(inserted) < len(self.buildings):
            raise problems.conflict("导入期间另一个请求登记了同名楼栋, 请重新导入")
        await self._write_units(conn)
        await self._write_people(conn)
        ownerships = await store.add_owners(conn, unit_ids=[o[0] for o in self.owners],
                                            person_ids=[o[1] for o in self.owners])
        result = ImportResult(buildings_created=len(self.buildings), units_created=len(self.units),
                              people_created=len(self.people), ownerships_created=ownerships)
        await self._announce(conn, result)
        return result

    async def _write_units(self, conn: Connection) -> None:
        inserted = await store.insert_units(
            conn, compound_id=self.compound_id, ids=[u.id for u in self.units],
            building_ids=[u.building_id for u in self.units],
            floors=[u.line.unit.floor for u in self.units],
            numbers=[u.line.unit.number for u in self.units],
            areas_centi=[u.area_centi for u in self.units],
            statuses=[u.line.unit.status for u in self.units])
        bad = BadLines(unwritten="数据")
        for unit in self.units:
            if unit.id not in inserted:
                bad.add(unit.line.number,
                        f"{unit.line.building.name} 已有房号 {unit.line.unit.number}")
        bad.check()

    async def _write_people(self, conn: Connection) -> None:
        inserted = await store.insert_people(
            conn, ids=[p[0] for p in self.people], names=[p[1].name for p in self.people],
            phones=[p[1].phone for p in self.people])
        bad = BadLines(unwritten="数据")
        for person_id, owner, line in self.people:
            if person_id not in inserted:
                bad.add(line, f"手机号 {privacy.mask_phone(owner.phone)} 已登记")
        bad.check()

    async def _announce(self, conn: Connection, result: ImportResult) -> None:
        """The upload's events, EVENTS_A_STATEMENT at a time (never all of them at once: a
        20,000-line upload has 60,000), in file order, then the import's summary."""
        outbox = EventsInOrder(conn)
        pending = itertools.chain(self._line_events(), self._summary(result))
        while chunk := list(itertools.islice(pending, EVENTS_A_STATEMENT)):
            await outbox.write(chunk)

    def _line_events(self) -> Iterator[CloudEvent]:
        """Each line's events as the line-by-line import wrote them: its building when new,
        its unit, its new owners, the unit's owners."""
        buildings = {b[0] for b in self.buildings}  # new ones not announced yet
        people = {p[0]: p[1] for p in self.people}
        for unit in self.units:
            if unit.building_id in buildings:
                buildings.remove(unit.building_id)
                yield self._building_created(unit)
            yield self._unit_created(unit)
            yield from (_person_created(person_id, people.pop(person_id))
                        for person_id in unit.owner_ids if person_id in people)
            if unit.owner_ids:
                yield self._owners_changed(unit)

    def _building_created(self, unit: NewUnit) -> CloudEvent:
        return events.BUILDING_CREATED.new(
            subject=str(unit.building_id), compound_id=str(self.compound_id),
            data=events.BuildingCreated(building_id=unit.building_id,
                                        compound_id=self.compound_id,
                                        name=unit.line.building.name))

    def _unit_created(self, unit: NewUnit) -> CloudEvent:
        return events.UNIT_CREATED.new(
            subject=str(unit.id), compound_id=str(self.compound_id), data=events.UnitChanged(
                unit_id=unit.id, compound_id=self.compound_id, building_id=unit.building_id,
                number=unit.line.unit.number, area_centi=unit.area_centi,
                status=unit.line.unit.status))

    def _owners_changed(self, unit: NewUnit) -> CloudEvent:
        return events.UNIT_OWNERS_CHANGED.new(
            subject=str(unit.id), compound_id=str(self.compound_id),
            data=events.UnitOwnersChanged(unit_id=unit.id, compound_id=self.compound_id,
                                          owner_ids=sorted(set(unit.owner_ids), key=str)))

    def _summary(self, result: ImportResult) -> Iterator[CloudEvent]:
        yield events.UNITS_IMPORTED.new(
            subject=str(self.compound_id), compound_id=str(self.compound_id),
            data=events.UnitsImported(compound_id=self.compound_id,
                                      units_created=result.units_created,
                                      ownerships_created=result.ownerships_created))


def _person_created(person_id: uuid.UUID, owner: PersonIn) -> CloudEvent:
    return events.PERSON_CREATED.new(subject=str(person_id), data=events.PersonCreated(
        person_id=person_id, name=owner.name))


async def _upload(conn: Connection, compound_id: uuid.UUID, lines: list[Line]) -> Upload:
    """The upload planned against the register: what exists is found, not created again."""
    names = list(dict.fromkeys(line.building.name for line in lines))
    buildings = {r["name"]: r for r in await store.find_buildings(
        conn, compound_id=compound_id, names=names)}
    old = [line for line in lines if line.building.name in buildings]
    taken = {(r["name"], r["number"]) for r in await store.taken_numbers(
        conn, compound_id=compound_id, buildings=[line.building.name for line in old],
        numbers=[line.unit.number for line in old])} if old else set()
    check_against_register(lines, {name: r["floors"] for name, r in buildings.items()}, taken)
    phones = list({o.phone for line in lines for o in line.owners if o.phone is not None})
    people = {r["phone"]: r["id"] for r in await store.find_people_by_phones(
        conn, phones=phones)} if phones else {}
    upload = Upload(compound_id, {name: r["id"] for name, r in buildings.items()}, people)
    for line in lines:
        upload.add(line)
    return upload


async def import_units(pool: Pool, *, compound_id: uuid.UUID, text: str) -> ImportResult:
    """Import every line in one transaction; any failure writes nothing."""
    lines = parse_csv(text)
    async with transaction(pool) as conn:
        if await store.get_compound(conn, id=compound_id) is None:
            raise problems.not_found("小区")
        upload = await _upload(conn, compound_id, lines)
        return await upload.write(conn)
