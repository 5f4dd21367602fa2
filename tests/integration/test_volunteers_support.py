"""Shared helpers of the volunteers tests: a fresh compound in the directory, the volunteers
service beside it, and people acting as residents, volunteers and community workers."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest
from aiohttp.test_utils import TestClient

from linli.config import Settings
from linli.http import POOL
from services.directory.app import create_app as directory_app
from services.volunteers.app import create_app as volunteers_app
from tests.conftest import AppFactory, TokenFactory, bearer

Headers = dict[str, str]


def later(hours: float = 24) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).isoformat()


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status == status, await response.text()
    return await response.json()


@dataclass
class World:
    """A compound with one unit and a volunteer team; tokens for whoever a test needs."""

    app: TestClient
    directory: TestClient
    cid: str
    unit: str
    team: str
    token: TokenFactory
    street: Headers
    people: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"/v1/compounds/{self.cid}"

    async def person(self, name: str) -> str:
        """A person registered in the directory (once per name)."""
        if name not in self.people:
            p = await ok(await self.directory.post("/v1/people", json={"name": name},
                                                   headers=self.street), 201)
            self.people[name] = p["id"]
        return self.people[name]

    def who(self, pid: str | None = None, *roles: str) -> Headers:
        return bearer(self.token(roles=list(roles or ["resident"]), compounds=[self.cid],
                                 person=pid or str(uuid.uuid4())))

    def staff(self, role: str = "community") -> Headers:
        return self.who(None, role)

    async def volunteer(self, name: str, *skills: str, verify: bool = True,
                        **extra: Any) -> tuple[dict[str, Any], Headers]:
        """Register `name` as a volunteer (by themselves) and have the community verify them."""
        pid = await self.person(name)
        me = self.who(pid)
        v = await ok(await self.app.post(f"{self.base}/volunteers", headers=me, json={
            "skills": list(skills or ["appliance_repair"]), **extra}), 201)
        if verify:
            v = await ok(await self.app.post(f"{self.base}/volunteers/{v['id']}/verify",
                                             headers=self.staff()))
        return v, me

    async def item(self, headers: Headers, skill: str = "appliance_repair",
                   **changes: Any) -> dict[str, Any]:
        body = {"title": "上门修理电视机", "skill": skill, "duration_minutes": 60,
                "capacity_per_week": 10, "description": "电视、冰箱、洗衣机小毛病", **changes}
        return dict(await ok(await self.app.post(f"{self.base}/service-menu", json=body,
                                                 headers=headers), 201))

    def order_body(self, item_id: str, **changes: Any) -> dict[str, Any]:
        return {"item_id": item_id, "unit_id": self.unit, "window_start": later(24),
                "window_end": later(26), "note": "电视没有图像", **changes}

    async def order(self, headers: Headers, item_id: str, **changes: Any) -> dict[str, Any]:
        return dict(await ok(await self.app.post(f"{self.base}/volunteer-orders", headers=headers,
                                                 json=self.order_body(item_id, **changes)), 201))

    async def act(self, order_id: str, action: str, headers: Headers, status: int = 200,
                  **body: Any) -> Any:
        r = await self.app.post(f"{self.base}/volunteer-orders/{order_id}/{action}",
                                headers=headers, json=body or None)
        return await ok(r, status) if status < 400 else r

    async def outbox(self, subject: str) -> list[str]:
        """The event types written for one subject, oldest first."""
        assert self.app.app is not None
        rows = await self.app.app[POOL].fetch(
            "SELECT payload FROM outbox WHERE convert_from(payload, 'UTF8')::jsonb->>'subject'"
            " = $1 ORDER BY created_at, id", subject)
        return [msgspec.json.decode(bytes(r["payload"]))["type"] for r in rows]

    async def compound_rows(self, table: str) -> int:
        assert self.app.app is not None
        n: int = await self.app.app[POOL].fetchval(
            f"SELECT count(*) FROM {table} WHERE compound_id = $1", uuid.UUID(self.cid))
        return n

    async def compound_events(self) -> int:
        assert self.app.app is not None
        n: int = await self.app.app[POOL].fetchval(
            "SELECT count(*) FROM outbox WHERE convert_from(payload, 'UTF8')::jsonb->>'compoundid'"
            " = $1", self.cid)
        return n


@pytest.fixture(name="world")
async def world_fixture(serve: AppFactory, settings: Settings, token: TokenFactory) -> World:
    directory = await serve(directory_app, port=settings.port("directory"))
    street = bearer(token(roles=["street_office"], compounds=["*"]))
    cid = (await ok(await directory.post("/v1/compounds", json={
        "name": "阳光花园城", "community": "万安社区", "street": "万安街道"}, headers=street),
        201))["id"]
    b = (await ok(await directory.post(f"/v1/compounds/{cid}/buildings",
                                       json={"name": "3号楼", "floors": 11}, headers=street),
                  201))["id"]
    unit = (await ok(await directory.post(f"/v1/compounds/{cid}/units", json={
        "building_id": b, "floor": 5, "number": "502", "area": "96.20", "status": "delivered"},
        headers=street), 201))["id"]
    team = (await ok(await directory.post(f"/v1/compounds/{cid}/organisations", json={
        "kind": "volunteer_team", "name": "阳光花园城志愿服务队"}, headers=street), 201))["id"]
    return World(await serve(volunteers_app), directory, cid, unit, team, token, street)
