"""Shared helpers of the centre tests: a fresh compound in the directory, the centre service
beside it, venues open all day every day, and people acting as residents and staff."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
from aiohttp.test_utils import TestClient

from linli.config import Settings
from linli.http import POOL
from services.centre.app import create_app as centre_app
from services.directory.app import create_app as directory_app
from tests.conftest import AppFactory, TokenFactory, bearer

Headers = dict[str, str]
LOCAL = dt.timezone(dt.timedelta(hours=8))
ALL_DAY = [{"weekday": d, "opens": "00:00", "closes": "23:59"} for d in range(1, 8)]


def tomorrow_at(hour: int, minute: int = 0, days: int = 1) -> dt.datetime:
    """A local (UTC+8) time on a coming day."""
    day = dt.datetime.now(LOCAL).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), LOCAL)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status == status, await response.text()
    return await response.json()


@dataclass
class World:
    """A compound known to the directory; tokens for whoever a test needs."""

    app: TestClient
    cid: str
    token: TokenFactory

    @property
    def base(self) -> str:
        return f"/v1/compounds/{self.cid}"

    def who(self, pid: str | None = None, *roles: str, name: str = "") -> Headers:
        return bearer(self.token(roles=list(roles or ["resident"]), compounds=[self.cid],
                                 person=pid or str(uuid.uuid4())))

    def staff(self, role: str = "property") -> Headers:
        return self.who(None, role)

    async def post(self, path: str, headers: Headers, status: int = 201, **body: Any) -> Any:
        return await ok(await self.app.post(f"{self.base}{path}", headers=headers,
                                            json=body or None), status)

    async def venue(self, **changes: Any) -> dict[str, Any]:
        body = {"name": f"活动室{uuid.uuid4().hex[:6]}", "kind": "room", "capacity": 40,
                "opening_hours": ALL_DAY, "max_minutes": 240, "advance_days": 30, **changes}
        return dict(await self.post("/venues", self.staff(), **body))

    def booking(self, venue_id: str, start: dt.datetime, minutes: int = 60,
                **changes: Any) -> dict[str, Any]:
        return {"venue_id": venue_id, "starts_at": iso(start),
                "ends_at": iso(start + dt.timedelta(minutes=minutes)), "purpose": "羽毛球",
                **changes}

    async def activity(self, capacity: int = 10, **changes: Any) -> dict[str, Any]:
        start = changes.pop("start", tomorrow_at(9))
        body = {"title": "重阳节登高", "organiser": "河市社区居委会", "audience": "elderly",
                "starts_at": iso(start), "ends_at": iso(start + dt.timedelta(hours=2)),
                "capacity": capacity, **changes}
        return dict(await self.post("/activities", self.staff(), **body))

    async def outbox(self, subject: str) -> list[str]:
        """The event types written for one subject, oldest first."""
        assert self.app.app is not None
        rows = await self.app.app[POOL].fetch(
            "SELECT payload FROM outbox WHERE convert_from(payload, 'UTF8')::jsonb->>'subject'"
            " = $1 ORDER BY created_at, id", subject)
        return [msgspec.json.decode(bytes(r["payload"]))["type"] for r in rows]

    async def event_data(self, subject: str, kind: str) -> list[dict[str, Any]]:
        assert self.app.app is not None
        rows = await self.app.app[POOL].fetch(
            "SELECT payload FROM outbox WHERE convert_from(payload, 'UTF8')::jsonb->>'subject'"
            " = $1 AND subject = $2 ORDER BY created_at, id", subject, kind)
        return [msgspec.json.decode(bytes(r["payload"]))["data"] for r in rows]

    async def count(self, sql: str, *args: Any) -> int:
        assert self.app.app is not None
        n: int = await self.app.app[POOL].fetchval(sql, *args)
        return n


@pytest.fixture(name="world")
async def world_fixture(serve: AppFactory, settings: Settings, token: TokenFactory) -> World:
    directory = await serve(directory_app, port=settings.port("directory"))
    street = bearer(token(roles=["street_office"], compounds=["*"]))
    cid = (await ok(await directory.post("/v1/compounds", json={
        "name": "三盛四季公园", "community": "河市社区", "street": "河市镇"}, headers=street),
        201))["id"]
    return World(await serve(centre_app), cid, token)
