"""Plain SQL of the directory schema; every function takes the connection, keywords only."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from linli.db import Connection

Row = Any

_UNIT_COLUMNS = """u.id, u.compound_id, u.building_id, u.floor, u.number, u.area_centi, u.status,
    coalesce(array_agg(o.person_id ORDER BY o.person_id) FILTER (WHERE o.person_id IS NOT NULL),
             '{}') AS owner_ids"""


async def insert_compound(conn: Connection, *, id: uuid.UUID, fields: dict[str, str]) -> Row:
    return await conn.fetchrow(
        "INSERT INTO compounds (id, name, community, street, district, address)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING *",
        id, fields["name"], fields["community"], fields["street"],
        fields.get("district", ""), fields.get("address", ""),
    )


async def update_compound(conn: Connection, *, id: uuid.UUID, fields: dict[str, str]) -> Row:
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(fields, start=2))
    return await conn.fetchrow(
        f"UPDATE compounds SET {sets} WHERE id = $1 RETURNING *", id, *fields.values()
    )


async def get_compound(conn: Connection, *, id: uuid.UUID) -> Row:
    return await conn.fetchrow("SELECT * FROM compounds WHERE id = $1", id)


async def list_compounds(
    conn: Connection, *, only: list[uuid.UUID] | None, after: uuid.UUID | None, limit: int
) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM compounds WHERE ($1::uuid[] IS NULL OR id = ANY($1))"
        " AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3",
        only, after, limit,
    )


async def insert_building(
    conn: Connection, *, id: uuid.UUID, compound_id: uuid.UUID, name: str, floors: int
) -> Row:
    return await conn.fetchrow(
        "INSERT INTO buildings (id, compound_id, name, floors) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT DO NOTHING RETURNING *",
        id, compound_id, name, floors,
    )


async def get_building(conn: Connection, *, id: uuid.UUID) -> Row:
    return await conn.fetchrow("SELECT * FROM buildings WHERE id = $1", id)


async def find_building(conn: Connection, *, compound_id: uuid.UUID, name: str) -> Row:
    return await conn.fetchrow(
        "SELECT * FROM buildings WHERE compound_id = $1 AND name = $2", compound_id, name
    )


async def list_buildings(conn: Connection, *, compound_id: uuid.UUID, after: str | None,
                         limit: int) -> list[Row]:
    """One page by name (unique in a compound), after the name `after`."""
    return await conn.fetch(
        "SELECT * FROM buildings WHERE compound_id = $1 AND ($2::text IS NULL OR name > $2)"
        " ORDER BY name LIMIT $3",
        compound_id, after, limit,
    )


async def insert_unit(conn: Connection, *, id: uuid.UUID, compound_id: uuid.UUID,
                      building_id: uuid.UUID, floor: int, number: str, area_centi: int,
                      status: str) -> bool:
    inserted = await conn.fetchval(
        "INSERT INTO units (id, compound_id, building_id, floor, number, area_centi, status)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING true",
        id, compound_id, building_id, floor, number, area_centi, status,
    )
    return bool(inserted)


async def update_unit(conn: Connection, *, id: uuid.UUID, area_centi: int | None,
                      status: str | None) -> bool:
    done = await conn.fetchval(
        "UPDATE units SET area_centi = coalesce($2, area_centi), status = coalesce($3, status),"
        " updated_at = now() WHERE id = $1 RETURNING true",
        id, area_centi, status,
    )
    return bool(done)


async def get_unit(conn: Connection, *, id: uuid.UUID) -> Row:
    return await conn.fetchrow(
        f"SELECT {_UNIT_COLUMNS} FROM units u LEFT JOIN ownerships o ON o.unit_id = u.id"
        " WHERE u.id = $1 GROUP BY u.id",
        id,
    )


async def list_units(conn: Connection, *, compound_id: uuid.UUID, building_id: uuid.UUID | None,
                     after: uuid.UUID | None, limit: int | None) -> list[Row]:
    return await conn.fetch(
        f"SELECT {_UNIT_COLUMNS} FROM units u LEFT JOIN ownerships o ON o.unit_id = u.id"
        " WHERE u.compound_id = $1 AND ($2::uuid IS NULL OR u.building_id = $2)"
        " AND ($3::uuid IS NULL OR u.id > $3) GROUP BY u.id ORDER BY u.id LIMIT $4",
        compound_id, building_id, after, limit,
    )


async def insert_person(conn: Connection, *, id: uuid.UUID, name: str, phone: str | None) -> bool:
    inserted = await conn.fetchval(
        "INSERT INTO people (id, name, phone) VALUES ($1, $2, $3)"
        " ON CONFLICT (id) DO NOTHING RETURNING true",
        id, name, phone,
    )
    return bool(inserted)


async def get_person(conn: Connection, *, id: uuid.UUID) -> Row:
    return await conn.fetchrow("SELECT * FROM people WHERE id = $1", id)


async def person_compounds(conn: Connection, *, id: uuid.UUID) -> Row:
    """Where a person belongs: `home` where they own or live, `roles` where they serve."""
    return await conn.fetchrow(
        "SELECT ARRAY(SELECT u.compound_id FROM ownerships o JOIN units u ON u.id = o.unit_id"
        "             WHERE o.person_id = $1"
        "             UNION SELECT h.compound_id FROM residents r"
        "             JOIN households h ON h.id = r.household_id WHERE r.person_id = $1) AS home,"
        " ARRAY(SELECT g.compound_id FROM roles r JOIN organisations g ON g.id = r.organisation_id"
        "       WHERE r.person_id = $1) AS roles",
        id,
    )


async def find_person_by_phone(conn: Connection, *, phone: str) -> Row:
    return await conn.fetchrow("SELECT * FROM people WHERE phone = $1", phone)


async def add_owner(conn: Connection, *, unit_id: uuid.UUID, person_id: uuid.UUID) -> bool:
    added = await conn.fetchval(
        "INSERT INTO ownerships (unit_id, person_id) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING RETURNING true",
        unit_id, person_id,
    )
    return bool(added)


async def remove_owner(conn: Connection, *, unit_id: uuid.UUID, person_id: uuid.UUID) -> bool:
    removed = await conn.fetchval(
        "DELETE FROM ownerships WHERE unit_id = $1 AND person_id = $2 RETURNING true",
        unit_id, person_id,
    )
    return bool(removed)


async def insert_household(conn: Connection, *, id: uuid.UUID, compound_id: uuid.UUID,
                           unit_id: uuid.UUID, name: str) -> bool:
    inserted = await conn.fetchval(
        "INSERT INTO households (id, compound_id, unit_id, name) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT DO NOTHING RETURNING true",
        id, compound_id, unit_id, name,
    )
    return bool(inserted)


async def get_household(conn: Connection, *, id: uuid.UUID) -> Row:
    return await conn.fetchrow("SELECT * FROM households WHERE id = $1", id)


async def list_households(conn: Connection, *, compound_id: uuid.UUID,
                          after: tuple[str, uuid.UUID] | None, limit: int) -> list[Row]:
    """One page by (name, id) with each household's residents, in one query."""
    name, last = after or (None, None)
    return await conn.fetch(
        "SELECT h.*, coalesce(r.person_ids, '{}') AS person_ids,"
        " coalesce(r.relations, '{}') AS relations"
        " FROM households h LEFT JOIN LATERAL ("
        "   SELECT array_agg(person_id ORDER BY person_id) AS person_ids,"
        "          array_agg(relation ORDER BY person_id) AS relations"
        "   FROM residents WHERE household_id = h.id) r ON true"
        " WHERE h.compound_id = $1 AND ($2::text IS NULL OR (h.name, h.id) > ($2, $3::uuid))"
        " ORDER BY h.name, h.id LIMIT $4",
        compound_id, name, last, limit,
    )


async def add_resident(conn: Connection, *, household_id: uuid.UUID, person_id: uuid.UUID,
                       relation: str) -> bool:
    added = await conn.fetchval(
        "INSERT INTO residents (household_id, person_id, relation) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING RETURNING true",
        household_id, person_id, relation,
    )
    return bool(added)


async def remove_resident(conn: Connection, *, household_id: uuid.UUID,
                          person_id: uuid.UUID) -> bool:
    removed = await conn.fetchval(
        "DELETE FROM residents WHERE household_id = $1 AND person_id = $2 RETURNING true",
        household_id, person_id,
    )
    return bool(removed)


async def list_residents(conn: Connection, *, household_ids: list[uuid.UUID]) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM residents WHERE household_id = ANY($1) ORDER BY person_id", household_ids
    )


async def insert_organisation(conn: Connection, *, id: uuid.UUID, compound_id: uuid.UUID,
                              kind: str, name: str) -> bool:
    inserted = await conn.fetchval(
        "INSERT INTO organisations (id, compound_id, kind, name) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT DO NOTHING RETURNING true",
        id, compound_id, kind, name,
    )
    return bool(inserted)


async def get_organisation(conn: Connection, *, id: uuid.UUID) -> Row:
    return await conn.fetchrow("SELECT * FROM organisations WHERE id = $1", id)


async def list_organisations(conn: Connection, *, compound_id: uuid.UUID,
                             after: tuple[str, str] | None, limit: int) -> list[Row]:
    """One page by (kind, name), unique in a compound."""
    kind, name = after or (None, None)
    return await conn.fetch(
        "SELECT * FROM organisations WHERE compound_id = $1"
        " AND ($2::text IS NULL OR (kind, name) > ($2, $3::text)) ORDER BY kind, name LIMIT $4",
        compound_id, kind, name, limit,
    )


async def insert_role(conn: Connection, *, id: uuid.UUID, organisation_id: uuid.UUID,
                      person_id: uuid.UUID, title: str, starts_on: dt.date,
                      ends_on: dt.date | None) -> bool:
    inserted = await conn.fetchval(
        "INSERT INTO roles (id, organisation_id, person_id, title, starts_on, ends_on)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true",
        id, organisation_id, person_id, title, starts_on, ends_on,
    )
    return bool(inserted)


async def end_role(conn: Connection, *, id: uuid.UUID, ends_on: dt.date) -> Row:
    return await conn.fetchrow(
        "UPDATE roles SET ends_on = $2 WHERE id = $1 RETURNING *", id, ends_on
    )


async def list_roles(conn: Connection, *, organisation_ids: list[uuid.UUID],
                     on: dt.date | None) -> list[Row]:
    """Roles in these organisations; with `on`, only those current that day."""
    return await conn.fetch(
        "SELECT r.*, p.name AS person_name FROM roles r JOIN people p ON p.id = r.person_id"
        " WHERE r.organisation_id = ANY($1) AND ($2::date IS NULL OR"
        " (r.starts_on <= $2 AND (r.ends_on IS NULL OR r.ends_on >= $2)))"
        " ORDER BY r.starts_on, r.id",
        organisation_ids, on,
    )


async def get_role(conn: Connection, *, id: uuid.UUID) -> Row:
    return await conn.fetchrow(
        "SELECT r.*, p.name AS person_name FROM roles r JOIN people p ON p.id = r.person_id"
        " WHERE r.id = $1",
        id,
    )


async def person_units(conn: Connection, *, person_id: uuid.UUID) -> list[Row]:
    """The units a person owns or lives in, with their compound (identity of the person)."""
    return await conn.fetch(
        "SELECT t.relation, u.id AS unit_id, u.number, b.name AS building, c.id AS compound_id,"
        " c.name AS compound_name FROM ("
        "  SELECT unit_id, 'owner' AS relation FROM ownerships WHERE person_id = $1"
        "  UNION SELECT h.unit_id, 'resident' FROM residents r"
        "  JOIN households h ON h.id = r.household_id WHERE r.person_id = $1) t"
        " JOIN units u ON u.id = t.unit_id JOIN buildings b ON b.id = u.building_id"
        " JOIN compounds c ON c.id = u.compound_id ORDER BY c.name, b.name, u.number, t.relation",
        person_id)


async def person_organisations(conn: Connection, *, person_id: uuid.UUID,
                               on: dt.date) -> list[Row]:
    """The organisations a person holds a role in on day `on` (China's today, from Python: the
    session's current_date is UTC's, a day behind between 00:00 and 08:00 in China)."""
    return await conn.fetch(
        "SELECT DISTINCT o.kind, c.id AS compound_id, c.name AS compound_name FROM roles r"
        " JOIN organisations o ON o.id = r.organisation_id JOIN compounds c ON c.id = o.compound_id"
        " WHERE r.person_id = $1 AND r.starts_on <= $2"
        " AND (r.ends_on IS NULL OR r.ends_on >= $2)", person_id, on)


async def compound_members(conn: Connection, *, compound_id: uuid.UUID,
                           person_ids: list[uuid.UUID], on: dt.date) -> dict[uuid.UUID, str]:
    """Which of these people own a unit of the compound, live in one of its households or
    hold a role on day `on` (China's today) in one of its organisations, with their names.
    Each branch starts from the compound's own rows (units by person, its households, its
    organisations), never a whole table."""
    rows = await conn.fetch(
        "SELECT m.person_id, p.name FROM ("
        " SELECT o.person_id FROM ownerships o JOIN units u ON u.id = o.unit_id"
        " WHERE o.person_id = ANY($2::uuid[]) AND u.compound_id = $1"
        " UNION SELECT r.person_id FROM households h JOIN residents r ON r.household_id = h.id"
        " WHERE h.compound_id = $1 AND r.person_id = ANY($2::uuid[])"
        " UNION SELECT r.person_id FROM organisations g JOIN roles r ON r.organisation_id = g.id"
        " WHERE g.compound_id = $1 AND r.person_id = ANY($2::uuid[])"
        " AND r.starts_on <= $3 AND (r.ends_on IS NULL OR r.ends_on >= $3)"
        ") m JOIN people p ON p.id = m.person_id",
        compound_id, person_ids, on)
    return {r["person_id"]: r["name"] for r in rows}


# ---------------------------------------------------------------- CSV import (one statement a kind)


async def find_buildings(conn: Connection, *, compound_id: uuid.UUID, names: list[str]) -> list[Row]:
    return await conn.fetch(
        "SELECT id, name, floors FROM buildings WHERE compound_id = $1 AND name = ANY($2::text[])",
        compound_id, names,
    )


async def taken_numbers(conn: Connection, *, compound_id: uuid.UUID, buildings: list[str],
                        numbers: list[str]) -> list[Row]:
    """Which of these (building name, unit number) pairs the compound already has."""
    return await conn.fetch(
        "SELECT b.name, u.number FROM unnest($2::text[], $3::text[]) AS l (name, number)"
        " JOIN buildings b ON b.compound_id = $1 AND b.name = l.name"
        " JOIN units u ON u.building_id = b.id AND u.number = l.number",
        compound_id, buildings, numbers,
    )


async def find_people_by_phones(conn: Connection, *, phones: list[str]) -> list[Row]:
    return await conn.fetch("SELECT id, phone FROM people WHERE phone = ANY($1::text[])", phones)


# The bulk inserts of an import take their unique keys in sorted order: two imports of the same
# compound listing new names, numbers or phones in opposite orders would otherwise each wait for
# the other (a deadlock); in one order the second waits, then finds them taken (a 409 or 422).
async def insert_buildings(conn: Connection, *, compound_id: uuid.UUID, ids: list[uuid.UUID],
                           names: list[str], floors: list[int]) -> set[uuid.UUID]:
    """The ids inserted (a name another transaction just took is left out)."""
    rows = await conn.fetch(
        "INSERT INTO buildings (id, compound_id, name, floors)"
        " SELECT id, $1, name, floors FROM unnest($2::uuid[], $3::text[], $4::int[])"
        " AS b (id, name, floors) ORDER BY name ON CONFLICT DO NOTHING RETURNING id",
        compound_id, ids, names, floors,
    )
    return {r["id"] for r in rows}


async def insert_units(conn: Connection, *, compound_id: uuid.UUID, ids: list[uuid.UUID],
                       building_ids: list[uuid.UUID], floors: list[int], numbers: list[str],
                       areas_centi: list[int], statuses: list[str]) -> set[uuid.UUID]:
    """The ids inserted (a number another transaction just took is left out)."""
    rows = await conn.fetch(
        "INSERT INTO units (id, compound_id, building_id, floor, number, area_centi, status)"
        " SELECT id, $1, building_id, floor, number, area_centi, status"
        " FROM unnest($2::uuid[], $3::uuid[], $4::int[], $5::text[], $6::bigint[], $7::text[])"
        " AS u (id, building_id, floor, number, area_centi, status)"
        " ORDER BY building_id, number ON CONFLICT DO NOTHING RETURNING id",
        compound_id, ids, building_ids, floors, numbers, areas_centi, statuses,
    )
    return {r["id"] for r in rows}


async def insert_people(conn: Connection, *, ids: list[uuid.UUID], names: list[str],
                        phones: list[str | None]) -> set[uuid.UUID]:
    """The ids inserted (a phone another transaction just registered is left out)."""
    rows = await conn.fetch(
        "INSERT INTO people (id, name, phone)"
        " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]) AS p (id, name, phone)"
        " ORDER BY phone ON CONFLICT DO NOTHING RETURNING id",
        ids, names, phones,
    )
    return {r["id"] for r in rows}


async def add_owners(conn: Connection, *, unit_ids: list[uuid.UUID],
                     person_ids: list[uuid.UUID]) -> int:
    """Ownerships of (unit_ids[i], person_ids[i]); how many were new."""
    return int(await conn.fetchval(
        "WITH added AS (INSERT INTO ownerships (unit_id, person_id)"
        " SELECT * FROM unnest($1::uuid[], $2::uuid[]) AS o (unit_id, person_id)"
        " ORDER BY unit_id, person_id ON CONFLICT DO NOTHING RETURNING 1)"
        " SELECT count(*) FROM added",
        unit_ids, person_ids,
    ))
