"""Shared helpers of the meetings tests: a compound registered in the directory over HTTP."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp.test_utils import TestClient

from linli.http import POOL
from tests.conftest import TokenFactory, bearer


def later(seconds: float = 3600) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).isoformat()


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status == status, await response.text()
    return await response.json()


async def problem(response: Any, status: int, kind: str) -> dict[str, Any]:
    """A problem+json answer of this status and type (urn:linli:problem:<kind>)."""
    assert response.status == status, await response.text()
    body: dict[str, Any] = await response.json()
    assert body["type"] == f"urn:linli:problem:{kind}", body
    return body




async def outbox(client: TestClient, subject: str) -> list[dict[str, Any]]:
    """The events this service wrote for one subject, oldest first."""
    async with client.app[POOL].acquire() as conn:
        rows = await conn.fetch(
            "SELECT payload FROM outbox WHERE convert_from(payload, 'UTF8')::jsonb->>'subject' = $1"
            " ORDER BY created_at, id", subject)
    return [msgspec.json.decode(bytes(r["payload"])) for r in rows]


@dataclass
class Compound:
    """A compound in the directory: ids of units and people, and tokens to act as them."""

    id: str
    directory: TestClient
    street: dict[str, str]
    building: str = ""
    buildings: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)  # number → unit id
    people: dict[str, str] = field(default_factory=dict)  # name → person id

    async def add_building(self, name: str, floors: int = 6) -> str:
        b = await ok(await self.directory.post(
            f"/v1/compounds/{self.id}/buildings", json={"name": name, "floors": floors},
            headers=self.street), 201)
        self.buildings[name] = b["id"]
        self.building = self.building or b["id"]
        return str(b["id"])

    async def unit(self, number: str, area: str, *owners: str, status: str = "delivered",
                   building: str | None = None, floor: int | None = None) -> str:
        body = {"building_id": building or self.building, "floor": floor or int(number[0]),
                "number": number, "area": area, "status": status}
        u = await ok(await self.directory.post(f"/v1/compounds/{self.id}/units", json=body,
                                               headers=self.street), 201)
        self.units[number] = u["id"]
        for name in owners:
            await ok(await self.directory.post(
                f"/v1/compounds/{self.id}/units/{u['id']}/owners",
                json={"person_id": await self.person(name)}, headers=self.street))
        return str(u["id"])

    async def person(self, name: str) -> str:
        if name not in self.people:
            phone = f"139{uuid.uuid4().int % 10**8:08d}"
            p = await ok(await self.directory.post("/v1/people", json={"name": name, "phone": phone},
                                                   headers=self.street), 201)
            self.people[name] = p["id"]
        return self.people[name]

    async def tenant(self, name: str, number: str = "601") -> str:
        """A person living in a household of the compound (not an owner), in a unit of their own."""
        unit = await self.unit(number, "60.00")
        household = await ok(await self.directory.post(f"/v1/compounds/{self.id}/households", json={
            "unit_id": unit, "name": f"{name}家"}, headers=self.street), 201)
        await ok(await self.directory.post(
            f"/v1/compounds/{self.id}/households/{household['id']}/residents",
            json={"person_id": await self.person(name), "relation": "tenant"}, headers=self.street))
        return self.people[name]

    def as_owner(self, token: TokenFactory, name: str) -> dict[str, str]:
        return bearer(token(roles=["owner", "resident"], compounds=[self.id],
                            person=self.people[name]))


async def new_compound(directory: TestClient, token: TokenFactory, name: str = "阳光花园") -> Compound:
    street = bearer(token(roles=["street_office"], compounds=["*"]))
    c = await ok(await directory.post("/v1/compounds", json={
        "name": f"{name}{uuid.uuid4().hex[:6]}", "community": "万安社区", "street": "万安街道"},
        headers=street), 201)
    compound = Compound(id=c["id"], directory=directory, street=street)
    await compound.add_building("1号楼")
    return compound
