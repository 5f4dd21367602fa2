"""What services ask the directory (its public /v1 API over HTTP, as `app:<caller>`), in one
place, with what one process remembers of the answers.

The directory never deletes a compound or a unit, so a confirmation is remembered (bounded);
`first_use` seeds a service's own defaults for a compound the directory confirmed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from linli import problems
from linli.clients import ServiceClient, service_client
from linli.memo import Confirmed, FirstUse


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

    async def organisations(self, compound_id: uuid.UUID, kind: str) -> set[str]:
        """The ids of the compound's organisations of this kind (from its 1+3+N roster)."""
        roster = await self.client.get(f"/v1/compounds/{compound_id}/roster")
        return {e["organisation"]["id"] for e in roster if e["organisation"]["kind"] == kind}


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
