"""Who belongs to a compound, asked for many people at once: the check other services make
before they act on people a request names (notify's messages to `person_ids`).

A person belongs to a compound when they own a unit there, live in one of its households, or
hold a role today in one of its 1+3+N organisations (as in their identity, identity.py).
"""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

from linli import problems
from linli.db import Pool
from linli.values import china_today
from services.directory import store

# notify sends to at most 500 people at once; room for other callers' lists
MAX_PEOPLE = 1_000


class MembersQuery(msgspec.Struct, forbid_unknown_fields=True):
    person_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=MAX_PEOPLE)]


class Members(msgspec.Struct):
    """The people asked about, split: who belongs to the compound and who does not (each
    once, in the order asked; a person unknown to the directory does not belong). `names`
    are the members' names, which GET /v1/people/{id} tells any caller acting in that compound
    anyway: a council
    naming 2,000 invitees then reads them in this one call, not one each."""

    compound_id: uuid.UUID
    members: list[uuid.UUID]
    outside: list[uuid.UUID]
    names: dict[uuid.UUID, str]


async def members(pool: Pool, *, compound_id: uuid.UUID, query: MembersQuery) -> Members:
    """404 when the compound is unknown."""
    asked = list(dict.fromkeys(query.person_ids))
    async with pool.acquire() as conn:
        if await store.get_compound(conn, id=compound_id) is None:
            raise problems.not_found("小区")
        found = await store.compound_members(conn, compound_id=compound_id, person_ids=asked,
                                             on=china_today())
    return Members(compound_id=compound_id, members=[p for p in asked if p in found],
                   outside=[p for p in asked if p not in found], names=found)
