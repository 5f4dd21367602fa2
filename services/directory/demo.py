"""Deterministic demo data: the four compounds of the Luojiang story.

Ids derive from names (uuid5), rows are inserted only when missing, so loading twice
changes nothing and emits no second event.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from linli.bus import emit
from linli.db import Connection, Pool, transaction
from services.directory import events, store

NAMESPACE = uuid.UUID("6f1c1c58-5a4e-4b43-9d1e-3c1b7a1f0e11")
SURNAMES = "陈林黄张李王吴刘蔡杨许郑谢洪郭邱曾廖赖徐周叶苏庄"
GIVEN = ["志明", "淑芬", "建国", "秀英", "文华", "丽娟", "国强", "美玲", "海峰", "雅婷", "振华", "春梅"]


def demo_id(*parts: object) -> uuid.UUID:
    """A stable id for a demo row."""
    return uuid.uuid5(NAMESPACE, "/".join(map(str, parts)))


@dataclass(frozen=True)
class DemoCompound:
    name: str
    community: str
    street: str
    buildings: int
    floors: int
    has_owners_committee: bool


COMPOUNDS = [
    DemoCompound("阳光花园", "万安社区", "万安街道", 3, 6, False),
    DemoCompound("南山归侨安置小区", "南山社区", "双阳街道", 2, 6, True),
    DemoCompound("阳光花园城", "塘西社区", "万安街道", 3, 8, True),
    DemoCompound("三盛四季公园", "河市社区", "河市镇", 2, 11, True),
]
ORGANISATIONS = [
    ("party_branch", "{c}党支部", ["党支部书记", "党支部委员"]),
    ("community", "{community}居民委员会", ["社区主任", "网格员"]),
    ("owners_committee", "{c}业主委员会", ["业委会主任", "业委会委员"]),
    ("property", "{c}物业服务中心", ["物业经理", "维修工"]),
    ("street_office", "{street}办事处", ["街道联络员"]),
    ("resident_reps", "{c}居民代表", ["居民代表", "居民代表"]),
    ("volunteer_team", "{c}志愿服务队", ["队长", "志愿者", "志愿者"]),
]


def person_name(seed: int) -> str:
    return SURNAMES[seed % len(SURNAMES)] + GIVEN[(seed * 7) % len(GIVEN)]


def unit_area_centi(building: int, floor: int, number: int) -> int:
    """Realistic areas between 68 and 143 m², exact to the hundredth, reproducible."""
    return 6800 + ((building * 7919 + floor * 104729 + number * 1299709) % 7500)


async def _person(conn: Connection, key: str, seed: int) -> uuid.UUID:
    person_id = demo_id("person", key)
    name = person_name(seed)
    phone = f"139{seed:08d}"
    if await store.insert_person(conn, id=person_id, name=name, phone=phone):
        await emit(conn, events.PERSON_CREATED, subject=str(person_id),
                   data=events.PersonCreated(person_id=person_id, name=name))
    return person_id


async def _compound(conn: Connection, c: DemoCompound) -> uuid.UUID:
    compound_id = demo_id("compound", c.name)
    row = await store.insert_compound(conn, id=compound_id, fields={
        "name": c.name, "community": c.community, "street": c.street, "district": "洛江区",
        "address": f"福建省泉州市洛江区{c.street}{c.name}"})
    if row is not None:
        await emit(conn, events.COMPOUND_CREATED, subject=str(compound_id), compound_id=str(compound_id),
                   data=events.CompoundCreated(compound_id=compound_id, name=c.name,
                                               community=c.community, street=c.street))
    return compound_id


def _owners_of(ci: int, b: int, floor: int, n: int) -> list[str]:
    """Who owns a unit: mostly one buyer, some buy three flats, some units are co-owned."""
    if b == 1 and floor == 1 and n == 1:
        return [f"{ci}-investor"]  # the investor of this compound, below with two more flats
    if (b, floor) in ((1, 2), (2, 3)) and n == 2:
        return [f"{ci}-investor"]
    if (floor + n) % 5 == 0:
        return [f"{ci}-{b}-{floor}-{n}-a", f"{ci}-{b}-{floor}-{n}-b"]  # co-owners
    return [f"{ci}-{b}-{floor}-{n}"]


async def _units(conn: Connection, ci: int, c: DemoCompound, compound_id: uuid.UUID) -> None:
    for b in range(1, c.buildings + 1):
        building_id = demo_id("building", c.name, b)
        if await store.insert_building(conn, id=building_id, compound_id=compound_id,
                                       name=f"{b}号楼", floors=c.floors):
            await emit(conn, events.BUILDING_CREATED, subject=str(building_id),
                       compound_id=str(compound_id),
                       data=events.BuildingCreated(building_id=building_id, compound_id=compound_id,
                                                   name=f"{b}号楼"))
        for floor in range(1, c.floors + 1):
            for n in (1, 2):
                await _unit(conn, ci, c, compound_id, building_id, b, floor, n)


async def _unit(conn: Connection, ci: int, c: DemoCompound, compound_id: uuid.UUID,
                building_id: uuid.UUID, b: int, floor: int, n: int) -> None:
    unit_id = demo_id("unit", c.name, b, floor, n)
    # the developer still holds the top floor of the last building (unsold / not delivered)
    unsold = b == c.buildings and floor == c.floors
    status = ("unsold" if n == 1 else "sold") if unsold else "delivered"
    number = f"{floor}0{n}"
    area = unit_area_centi(b, floor, n)
    if not await store.insert_unit(conn, id=unit_id, compound_id=compound_id, building_id=building_id,
                                   floor=floor, number=number, area_centi=area, status=status):
        return
    await emit(conn, events.UNIT_CREATED, subject=str(unit_id), compound_id=str(compound_id),
               data=events.UnitChanged(unit_id=unit_id, compound_id=compound_id,
                                       building_id=building_id, number=number,
                                       area_centi=area, status=status))
    if status == "unsold":
        return
    owners = [await _person(conn, key, ci * 100_000 + b * 10_000 + floor * 100 + n * 10 + i)
              for i, key in enumerate(_owners_of(ci, b, floor, n))]
    for person_id in owners:
        await store.add_owner(conn, unit_id=unit_id, person_id=person_id)
    await emit(conn, events.UNIT_OWNERS_CHANGED, subject=str(unit_id), compound_id=str(compound_id),
               data=events.UnitOwnersChanged(unit_id=unit_id, compound_id=compound_id,
                                             owner_ids=sorted(owners, key=str)))


async def _organisations(conn: Connection, ci: int, c: DemoCompound, compound_id: uuid.UUID) -> None:
    for oi, (kind, template, titles) in enumerate(ORGANISATIONS):
        if kind == "owners_committee" and not c.has_owners_committee:
            continue  # 阳光花园 has none yet: founding one is part of its story
        name = template.format(c=c.name, community=c.community, street=c.street)
        org_id = demo_id("organisation", c.name, kind)
        if await store.insert_organisation(conn, id=org_id, compound_id=compound_id, kind=kind,
                                           name=name):
            await emit(conn, events.ORGANISATION_CREATED, subject=str(org_id),
                       compound_id=str(compound_id),
                       data=events.OrganisationCreated(organisation_id=org_id,
                                                       compound_id=compound_id, kind=kind, name=name))
        for ti, title in enumerate(titles):
            person_id = await _person(conn, f"{ci}-{kind}-{ti}", 900_000 + ci * 1000 + oi * 10 + ti)
            role_id = demo_id("role", c.name, kind, ti)
            if await store.insert_role(conn, id=role_id, organisation_id=org_id, person_id=person_id,
                                       title=title, starts_on=dt.date(2024, 1, 1), ends_on=None):
                await emit(conn, events.ROLE_ASSIGNED, subject=str(role_id),
                           compound_id=str(compound_id),
                           data=events.RoleChanged(role_id=role_id, organisation_id=org_id,
                                                   compound_id=compound_id, person_id=person_id,
                                                   title=title, kind=kind))


async def load_demo(pool: Pool) -> list[uuid.UUID]:
    """Load (or complete) the demo compounds; returns their ids."""
    ids = []
    async with transaction(pool) as conn:
        for ci, c in enumerate(COMPOUNDS, start=1):
            compound_id = await _compound(conn, c)
            await _units(conn, ci, c, compound_id)
            await _organisations(conn, ci, c, compound_id)
            ids.append(compound_id)
    return ids


async def load_into(database_url: str) -> int:
    """The `linli demo` entry point: migrate the directory's schema, load the demo compounds,
    return how many there are (safe to repeat)."""
    from linli import db
    from services.directory.app import MIGRATIONS

    pool = await db.create_pool(database_url, schema="directory", max_size=2)
    try:
        async with pool.acquire() as conn:
            await db.migrate(conn, schema="directory", migrations=MIGRATIONS)
        return len(await load_demo(pool))
    finally:
        await pool.close()


async def demo_people(pool: Pool, compound_name: str, limit: int = 60) -> list[tuple[uuid.UUID, str]]:
    """Owners of one demo compound (id, name), for other services' demo data."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT DISTINCT p.id, p.name FROM people p JOIN ownerships o ON o.person_id = p.id"
            " JOIN units u ON u.id = o.unit_id WHERE u.compound_id = $1 ORDER BY p.id LIMIT $2",
            demo_id("compound", compound_name), limit)
    return [(r["id"], r["name"]) for r in rows]


# what `linli token --person demo` offers: each demo compound's officials and one owner
ROLE_OF_KIND = {"party_branch": "party_branch", "community": "community",
                "owners_committee": "owners_committee", "property": "property",
                "street_office": "street_office", "resident_reps": "resident_rep",
                "volunteer_team": "volunteer"}


@dataclass(frozen=True)
class DemoPerson:
    person_id: uuid.UUID
    name: str
    role: str  # a role of linli.auth.ROLES ("owner" for the owner of 1号楼 102)
    title: str
    compound: str
    compound_id: uuid.UUID


def demo_cast() -> list[DemoPerson]:
    """The demo people a token can be made for, as the demo loads them (same ids, same names)."""
    cast: list[DemoPerson] = []
    for ci, c in enumerate(COMPOUNDS, start=1):
        compound_id = demo_id("compound", c.name)
        for oi, (kind, _template, titles) in enumerate(ORGANISATIONS):
            if kind == "owners_committee" and not c.has_owners_committee:
                continue
            for ti, title in enumerate(titles):
                cast.append(DemoPerson(demo_id("person", f"{ci}-{kind}-{ti}"),
                                       person_name(900_000 + ci * 1000 + oi * 10 + ti),
                                       ROLE_OF_KIND[kind], title, c.name, compound_id))
        cast.append(DemoPerson(demo_id("person", f"{ci}-1-1-2"),
                               person_name(ci * 100_000 + 10_000 + 100 + 20), "owner",
                               "1号楼 102 业主", c.name, compound_id))
    return cast
