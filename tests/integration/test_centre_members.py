"""Staff at the centre's desk (or an app with centre:manage) booking, signing up, lending or
holding a book for someone else (`person_id`) name a person of the compound: an owner, a
household member, or someone serving today in one of its organisations. notify tells that person
of the booking, the waiting list, the loan's due date and the hold, so a person of another
compound or an unknown id is a 422 naming them, with nothing written; without the directory, a
503. People acting for themselves are vouched for by their token."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from linli.config import Settings
from linli.http import POOL
from services.centre.app import create_app as centre_app
from services.directory.app import create_app as directory_app
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer
from tests.integration.test_centre_support import ALL_DAY, iso, ok, tomorrow_at
from tests.integration.test_meetings_support import Compound, new_compound


@pytest.fixture
async def apps(serve: AppFactory, settings: Settings) -> tuple[TestClient, TestClient]:
    directory = await serve(directory_app, port=settings.port("directory"))
    return directory, await serve(centre_app)


class Desk:
    """The centre of compound `c`: a room, an activity and a one-copy book, and its staff."""

    def __init__(self, centre: TestClient, c: Compound, token: TokenFactory) -> None:
        self.centre, self.c = centre, c
        self.staff = bearer(token(roles=["property"], compounds=[c.id]))
        self.app = bearer(token(app="centre-desk", scopes=["centre:manage"], compounds=[c.id]))
        self.base = f"/v1/compounds/{c.id}"
        self.ids: dict[str, str] = {}

    async def open(self) -> None:
        for path, body in (
            ("venues", {"name": "多功能厅", "kind": "room", "capacity": 40,
                        "opening_hours": ALL_DAY, "max_minutes": 240, "advance_days": 30}),
            ("activities", {"title": "重阳节登高", "organiser": "河市社区居委会",
                            "audience": "elderly", "starts_at": iso(tomorrow_at(9)),
                            "ends_at": iso(tomorrow_at(11)), "capacity": 10}),
            ("books", {"title": "平凡的世界", "copies": 1})):
            self.ids[path] = (await ok(await self.centre.post(
                f"{self.base}/{path}", json=body, headers=self.staff), 201))["id"]

    def requests(self, person: str, hour: int = 9) -> list[tuple[str, dict[str, Any]]]:
        """(path, body) of a booking, a sign-up, a loan and a hold for `person`."""
        return [
            ("/bookings", {"venue_id": self.ids["venues"], "starts_at": iso(tomorrow_at(hour)),
                           "ends_at": iso(tomorrow_at(hour + 1)), "purpose": "老年合唱排练",
                           "person_id": person}),
            (f"/activities/{self.ids['activities']}/signups", {"person_id": person}),
            ("/loans", {"book_id": self.ids["books"], "person_id": person}),
            ("/holds", {"book_id": self.ids["books"], "person_id": person})]

    async def written(self, person: str) -> dict[str, int]:
        """Rows naming `person`, and the compound's events."""
        async with self.centre.app[POOL].acquire() as conn:
            found = {table: await conn.fetchval(
                f"SELECT count(*) FROM {table} WHERE {column} = $1", person)
                for table, column in (("bookings", "booker_id"), ("signups", "person_id"),
                                      ("loans", "person_id"), ("holds", "person_id"))}
            found["events"] = await conn.fetchval(
                "SELECT count(*) FROM outbox"
                " WHERE convert_from(payload, 'UTF8')::jsonb->>'compoundid' = $1", self.c.id)
            return found


async def _stranger(directory: TestClient, token: TokenFactory) -> str:
    other = await new_compound(directory, token, "南山归侨安置小区")
    await other.unit("101", "70.00", "南山业主")
    return other.people["南山业主"]


async def test_staff_cannot_act_at_the_desk_for_a_person_of_another_compound(
    apps: tuple[TestClient, TestClient], token: TokenFactory,
) -> None:
    directory, centre = apps
    desk = Desk(centre, await new_compound(directory, token, "三盛四季公园"), token)
    await desk.open()
    await desk.c.unit("101", "89.50", "业主林")  # the one copy goes out, so a hold may queue
    await ok(await centre.post(f"{desk.base}/loans", json={
        "book_id": desk.ids["books"], "person_id": desk.c.people["业主林"]}, headers=desk.staff),
        201)
    stranger, nobody = await _stranger(directory, token), str(uuid.uuid4())
    before = await desk.written(stranger)
    for person in (stranger, nobody):
        for path, body in desk.requests(person):
            for who in (desk.staff, desk.app):
                key = f"desk-{uuid.uuid4()}"
                r = await centre.post(f"{desk.base}{path}", json=body,
                                      headers=who | {"Idempotency-Key": key})
                problem = await assert_problem(r, 422, "validation-error")
                assert "不属于本小区" in problem["detail"] and person in problem["detail"], path
                assert problem["errors"] == [{"field": "person_id", "detail": problem["detail"]}]
                async with centre.app[POOL].acquire() as conn:
                    assert await conn.fetchval(
                        "SELECT count(*) FROM idempotency WHERE key = $1", key) == 0
    # no row names them and the compound has no event more than before
    assert {k: v for k, v in before.items() if k != "events"} == {
        "bookings": 0, "signups": 0, "loans": 0, "holds": 0}
    assert await desk.written(stranger) == before == await desk.written(nobody)


async def test_staff_act_for_owners_tenants_and_people_serving_in_the_compound(
    apps: tuple[TestClient, TestClient], token: TokenFactory,
) -> None:
    directory, centre = apps
    desk = Desk(centre, await new_compound(directory, token, "三盛四季公园"), token)
    await desk.open()
    c = desk.c
    await c.unit("101", "89.50", "业主林")
    org = await ok(await directory.post(f"/v1/compounds/{c.id}/organisations", json={
        "kind": "community", "name": "河市社区居委会"}, headers=c.street), 201)
    await ok(await directory.post(f"/v1/compounds/{c.id}/organisations/{org['id']}/roles", json={
        "person_id": await c.person("社工郑"), "title": "社工", "starts_on": "2026-01-01"},
        headers=c.street), 201)
    owner, worker = c.people["业主林"], c.people["社工郑"]
    mine = desk.requests(owner, hour=9)
    for path, body in mine[:3]:  # the booking, the sign-up and the loan (its one copy)
        made = await ok(await centre.post(f"{desk.base}{path}", json=body, headers=desk.staff),
                        201)
        assert made.get("booker_id", made.get("person_id")) == owner, made
    path, body = desk.requests(worker, hour=13)[3]  # the worker queues for the copy out
    hold = await ok(await centre.post(f"{desk.base}{path}", json=body, headers=desk.app), 201)
    assert hold["person_id"] == worker and hold["status"] == "waiting"


async def test_without_the_directory_acting_for_someone_is_a_503_and_writes_nothing(
    serve: AppFactory, token: TokenFactory,
) -> None:
    centre = await serve(centre_app)  # and no directory where the centre looks for it
    cid = str(uuid.uuid4())
    staff = bearer(token(roles=["property"], compounds=[cid]))
    person = str(uuid.uuid4())
    for path, body in (
            ("/bookings", {"venue_id": str(uuid.uuid4()), "starts_at": iso(tomorrow_at(9)),
                           "ends_at": iso(tomorrow_at(10)), "purpose": "排练",
                           "person_id": person}),
            (f"/activities/{uuid.uuid4()}/signups", {"person_id": person}),
            ("/loans", {"book_id": str(uuid.uuid4()), "person_id": person}),
            ("/holds", {"book_id": str(uuid.uuid4()), "person_id": person})):
        key = f"down-{uuid.uuid4()}"
        r = await centre.post(f"/v1/compounds/{cid}{path}", json=body,
                              headers=staff | {"Idempotency-Key": key})
        assert r.status == 503 and r.headers["Retry-After"].isdigit(), (path, await r.text())
        assert r.content_type == "application/problem+json" and (await r.json())["detail"]
        async with centre.app[POOL].acquire() as conn:
            assert await conn.fetchval(
                "SELECT count(*) FROM idempotency WHERE key = $1", key) == 0
