"""What services ask the directory (its public /v1 API over HTTP, as `app:<caller>`), in one
place, with what one process remembers of the answers.

The directory never deletes a compound or a unit, so a confirmation is remembered (bounded);
`first_use` seeds a service's own defaults for a compound the directory confirmed.
Who serves in a compound's organisations is read here only (the 1+3+N roster, every page), and
whether the people a request names belong to a compound, and their names (one POST per
thousand people).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
from aiohttp import web

from linli import problems
from linli.clients import ServiceClient, service_client
from linli.memo import Confirmed, FirstUse

# the most people one members/lookup answers about (the directory's MAX_PEOPLE): a longer
# list (a council invites up to 2,000 by name) is asked in batches of this many at once
MEMBERS_BATCH = 1_000


class RosterOrganisation(msgspec.Struct):
    id: uuid.UUID
    kind: str


class RosterRole(msgspec.Struct):
    person_id: uuid.UUID


class Members(msgspec.Struct):
    """Of the people asked about, those who do not belong to the compound, and the names of
    those who do."""

    outside: list[uuid.UUID]
    names: dict[uuid.UUID, str] = msgspec.field(default_factory=dict)


class RosterEntry(msgspec.Struct):
    """One organisation of the 1+3+N roster and the people in it (what callers read of it)."""

    organisation: RosterOrganisation
    roles: list[RosterRole]


class Directory:
    """The directory as another service sees it."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client
        self.first_use = FirstUse()
        self._units = Confirmed()

    async def compound(self, compound_id: uuid.UUID) -> None:
        """The compound exists (the directory's 404 is our 404)."""
        await self.client.get_or(f"/v1/compounds/{compound_id}", problems.not_found("小区"))

    async def unit(self, compound_id: uuid.UUID, unit_id: uuid.UUID, detail: str) -> None:
        """The unit is in this compound; `detail` is the 422 on field unit_id when it is not."""
        await self._units.check((compound_id, unit_id), lambda: self.client.get_or(
            f"/v1/compounds/{compound_id}/units/{unit_id}",
            problems.validation(detail, field="unit_id")))

    async def person(self, person_id: str, *, field: str, detail: str) -> dict[str, Any]:
        """The person's record; `detail` is the 422 on `field` when there is none."""
        found = await self.client.get_or(f"/v1/people/{person_id}",
                                         problems.validation(detail, field=field))
        assert isinstance(found, dict)
        return found

    async def _lookup(self, compound_id: uuid.UUID | str, person_ids: list[str],
                      missing: problems.Problem | None) -> list[Members]:
        """The directory's answers about these people, MEMBERS_BATCH at once (concurrently)."""
        wanted = list(dict.fromkeys(person_ids))
        batches = [wanted[i:i + MEMBERS_BATCH] for i in range(0, len(wanted), MEMBERS_BATCH)]
        answers: list[Members] = await asyncio.gather(*(self.client.post_or(
            f"/v1/compounds/{compound_id}/members/lookup", {"person_ids": batch},
            missing or problems.not_found("小区"), kind=Members) for batch in batches))
        return answers

    async def outsiders(self, compound_id: uuid.UUID | str, person_ids: list[str], *,
                        missing: problems.Problem | None = None) -> list[str]:
        """The ids among `person_ids` of people who do not belong to the compound (who neither
        own nor live there nor serve in its organisations today), in the order given. The
        directory's not-found for the compound raises `missing` (a 404 「小区不存在」 unless
        given); its outage a 503 with Retry-After; any other refusal a 502 (linli/clients.py)."""
        return [str(p) for found in await self._lookup(compound_id, person_ids, missing)
                for p in found.outside]

    async def require_members(self, compound_id: uuid.UUID | str, person_ids: list[str], *,
                              field: str, missing: problems.Problem | None = None
                              ) -> dict[str, str]:
        """The names of these people, each of whom belongs to the compound; else a 422 on
        `field` naming every person who does not, so a request about people of another
        compound is refused whole, before anything is written (an unreachable directory raises
        its 503 the same way; an unknown compound `missing`, as in `outsiders`)."""
        answers = await self._lookup(compound_id, person_ids, missing)
        outside = [str(p) for found in answers for p in found.outside]
        if outside:
            raise problems.validation(
                f"以下人员不属于本小区 (不是本小区的业主、住户或现任 1+3+N 组织成员): "
                f"{'、'.join(outside)}", field=field)
        return {str(p): name for found in answers for p, name in found.names.items()}

    async def names(self, compound_id: uuid.UUID | str, person_ids: list[str]) -> dict[str, str]:
        """The names of those of these people who belong to the compound (the same lookup as
        `require_members`, refusing nobody: one who does not belong is simply not named)."""
        return {str(p): name for found in await self._lookup(compound_id, person_ids, None)
                for p, name in found.names.items()}

    async def roster(self, compound_id: uuid.UUID | str,
                     on: dt.date | None = None) -> list[RosterEntry]:
        """The compound's whole 1+3+N roster (every page); with `on`, the roles current then.
        The directory's not-found is our 404 「小区不存在」, its other refusals our 502 (as in
        `outsiders`)."""
        path = f"/v1/compounds/{compound_id}/roster" + (f"?on={on.isoformat()}" if on else "")
        entries: list[RosterEntry] = await self.client.get_all_or(
            path, problems.not_found("小区"), kind=RosterEntry)
        return entries

    async def organisations(self, compound_id: uuid.UUID, kind: str) -> set[str]:
        """The ids of the compound's organisations of this kind (from its 1+3+N roster)."""
        return {str(e.organisation.id) for e in await self.roster(compound_id)
                if e.organisation.kind == kind}

    async def members(self, compound_id: uuid.UUID | str, kinds: list[str],
                      on: dt.date) -> list[str]:
        """The people serving on day `on` in the compound's organisations of these kinds."""
        return [str(r.person_id) for e in await self.roster(compound_id, on)
                if e.organisation.kind in kinds for r in e.roles]


class PendingDirectory:
    """The Directory for consumers that start before the cleanup context that makes it (notify's
    fanout): `get` waits, bounded, until the context has set it; then answers it."""

    WAIT_SECONDS = 10.0

    def __init__(self) -> None:
        self._directory: Directory | None = None
        self._ready = asyncio.Event()

    def set(self, directory: Directory | None) -> None:
        self._directory = directory
        if directory is None:
            self._ready.clear()
        else:
            self._ready.set()

    async def get(self) -> Directory:
        """The directory (raises TimeoutError when it is not set within WAIT_SECONDS: the
        event is redelivered later)."""
        async with asyncio.timeout(self.WAIT_SECONDS):
            await self._ready.wait()
        assert self._directory is not None
        return self._directory


def directory_context(
    key: web.AppKey[Directory], client_key: web.AppKey[ServiceClient], *, caller: str,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Cleanup context: the directory client at app[client_key], and app[key] wrapping it."""
    inner = service_client(client_key, caller=caller, target="directory")

    async def context(app: web.Application) -> AsyncIterator[None]:
        async for _ in inner(app):
            app[key] = Directory(app[client_key])
            yield

    return context
