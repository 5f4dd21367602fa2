"""Who a person is across compounds: the identity an app signs a person in with.

The portal (and any app with the scope `directory:identify`) asks by phone number or by id and
gets the person's name, the compounds they belong to, their roles there and their units. The
phone number itself is not in the answer: the caller already has it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Annotated, Any

import msgspec

from linli import problems
from linli.db import Pool
from linli.values import china_today
from services.directory import store

Phone = Annotated[str, msgspec.Meta(pattern=r"^1\d{10}$", examples=["13900000000"])]

# organisation kinds (1+3+N) → the role their members act in
ROLE_OF_KIND = {
    "party_branch": "party_branch", "community": "community", "owners_committee": "owners_committee",
    "property": "property", "street_office": "street_office", "resident_reps": "resident_rep",
    "volunteer_team": "volunteer",
}


class IdentityQuery(msgspec.Struct, kw_only=True):
    phone: Phone


class IdentityUnit(msgspec.Struct):
    id: uuid.UUID
    label: str
    relation: str  # owner | resident


class Membership(msgspec.Struct):
    compound_id: uuid.UUID
    compound_name: str
    roles: list[str]
    units: list[IdentityUnit]


class Identity(msgspec.Struct):
    person_id: uuid.UUID
    name: str
    memberships: list[Membership]


def _memberships(ties: Iterable[Any], org_roles: Iterable[Any]) -> list[Membership]:
    by_compound: dict[uuid.UUID, Membership] = {}

    def member(row: Any) -> Membership:
        return by_compound.setdefault(row["compound_id"], Membership(
            compound_id=row["compound_id"], compound_name=row["compound_name"],
            roles=["resident"], units=[]))

    for row in ties:
        m = member(row)
        m.units.append(IdentityUnit(id=row["unit_id"], label=f"{row['building']} {row['number']}",
                                    relation=row["relation"]))
        if row["relation"] == "owner" and "owner" not in m.roles:
            m.roles.append("owner")
    for row in org_roles:
        role = ROLE_OF_KIND.get(row["kind"])
        m = member(row)
        if role and role not in m.roles:
            m.roles.append(role)
    return sorted(by_compound.values(), key=lambda m: m.compound_name)


async def identity(pool: Pool, *, person_id: uuid.UUID | None = None,
                   phone: str | None = None) -> Identity:
    """The person by id or phone with their memberships; 404 when nobody matches."""
    async with pool.acquire() as conn:
        if person_id is not None:
            row = await store.get_person(conn, id=person_id)
        else:
            row = await store.find_person_by_phone(conn, phone=phone or "")
        if row is None:
            raise problems.not_found("人员")
        ties = await store.person_units(conn, person_id=row["id"])
        org_roles = await store.person_organisations(conn, person_id=row["id"], on=china_today())
    return Identity(person_id=row["id"], name=row["name"], memberships=_memberships(ties, org_roles))
