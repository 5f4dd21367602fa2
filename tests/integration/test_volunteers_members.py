"""Staff (or an app with volunteers:manage) registering someone else as a volunteer name a person
of the compound: an owner, a household member, or someone serving today in one of its 1+3+N
organisations (the volunteer team itself, a partner unit). A person of another compound or an
unknown id is a 422 naming them, with nothing written (no volunteer, no event, no
Idempotency-Key kept); without the directory, a 503. Registering oneself needs no lookup: the
token says the caller acts in the compound."""

from __future__ import annotations

import uuid

from aiohttp.test_utils import TestClient

from linli.http import POOL
from tests.conftest import assert_problem, bearer
from tests.integration.test_volunteers_support import (  # noqa: F401
    World,
    ok,
    world_fixture,
)


async def _written(app: TestClient, cid: str, key: str) -> dict[str, int]:
    """What volunteers holds of this compound's volunteers or this Idempotency-Key."""
    async with app.app[POOL].acquire() as conn:
        return {
            "volunteers": await conn.fetchval(
                "SELECT count(*) FROM volunteers WHERE compound_id = $1", uuid.UUID(cid)),
            "events": await conn.fetchval(
                "SELECT count(*) FROM outbox"
                " WHERE convert_from(payload, 'UTF8')::jsonb->>'compoundid' = $1", cid),
            "keys": await conn.fetchval("SELECT count(*) FROM idempotency WHERE key = $1", key),
        }


NOTHING = {"volunteers": 0, "events": 0, "keys": 0}


async def _stranger(w: World) -> str:
    """The owner of a flat in another compound."""
    other = (await ok(await w.directory.post("/v1/compounds", json={
        "name": f"南山归侨安置小区{uuid.uuid4().hex[:6]}", "community": "南山社区",
        "street": "万安街道"}, headers=w.street), 201))["id"]
    building = (await ok(await w.directory.post(f"/v1/compounds/{other}/buildings", json={
        "name": "1号楼", "floors": 6}, headers=w.street), 201))["id"]
    unit = (await ok(await w.directory.post(f"/v1/compounds/{other}/units", json={
        "building_id": building, "floor": 1, "number": "101", "area": "70.00",
        "status": "delivered"}, headers=w.street), 201))["id"]
    person = await w.person("南山业主")
    await ok(await w.directory.post(f"/v1/compounds/{other}/units/{unit}/owners",
                                    json={"person_id": person}, headers=w.street))
    return person


async def _in_team(w: World, name: str) -> str:
    """A person serving today in the compound's volunteer team (living elsewhere)."""
    person = await w.person(name)
    await ok(await w.directory.post(f"/v1/compounds/{w.cid}/organisations/{w.team}/roles", json={
        "person_id": person, "title": "队员", "starts_on": "2026-01-01"}, headers=w.street), 201)
    return person


async def test_staff_cannot_register_a_person_of_another_compound_and_nothing_is_written(
    world: World,
) -> None:
    w = world
    stranger = await _stranger(w)
    key = f"register-{uuid.uuid4()}"
    for staff in (w.staff("community"), bearer(w.token(
            app="volunteer-desk", scopes=["volunteers:manage"], compounds=[w.cid]))):
        r = await w.app.post(f"{w.base}/volunteers", json={
            "skills": ["errands"], "person_id": stranger}, headers=staff | {"Idempotency-Key": key})
        body = await assert_problem(r, 422, "validation-error")
        assert "不属于本小区" in body["detail"] and stranger in body["detail"], body
        assert body["errors"] == [{"field": "person_id", "detail": body["detail"]}]
    nobody = str(uuid.uuid4())  # no such person anywhere: the same answer
    r = await w.app.post(f"{w.base}/volunteers", json={"skills": ["errands"], "person_id": nobody},
                         headers=w.staff() | {"Idempotency-Key": key})
    assert nobody in (await assert_problem(r, 422, "validation-error"))["detail"]
    assert await _written(w.app, w.cid, key) == NOTHING


async def test_staff_register_owners_residents_and_team_members_and_people_themselves(
    world: World,
) -> None:
    w = world
    owner = await w.person("业主钱阿姨")
    await ok(await w.directory.post(f"{w.base}/units/{w.unit}/owners", json={
        "person_id": owner}, headers=w.street))
    household = await ok(await w.directory.post(f"{w.base}/households", json={
        "unit_id": w.unit, "name": "钱家"}, headers=w.street), 201)
    tenant = await w.person("租户孙")
    await ok(await w.directory.post(f"{w.base}/households/{household['id']}/residents", json={
        "person_id": tenant, "relation": "tenant"}, headers=w.street))
    member = await _in_team(w, "共建单位吴工")
    for person, name in ((owner, "业主钱阿姨"), (tenant, "租户孙"), (member, "共建单位吴工")):
        v = await ok(await w.app.post(f"{w.base}/volunteers", json={
            "skills": ["errands"], "person_id": person}, headers=w.staff()), 201)
        assert (v["person_id"], v["name"], v["status"]) == (person, name, "verified")
    # a person registering themselves: their token is the check (pending review)
    v, _ = await w.volunteer("自己登记的李师傅", verify=False)
    assert v["status"] == "pending"


async def test_without_the_directory_registering_is_a_503_and_writes_nothing(
    world: World,
) -> None:
    """The compound known (its skills seeded while the directory answered), registering someone
    else needs the directory only for the check, which also names them: without it, a 503."""
    w = world
    await ok(await w.app.get(f"{w.base}/volunteer-skills", headers=w.staff()))
    await w.directory.close()
    key = f"down-{uuid.uuid4()}"
    before = await _written(w.app, w.cid, key)
    r = await w.app.post(f"{w.base}/volunteers", json={
        "skills": ["errands"], "person_id": str(uuid.uuid4())},
        headers=w.staff() | {"Idempotency-Key": key})
    assert r.status == 503 and r.headers["Retry-After"].isdigit(), await r.text()
    assert r.content_type == "application/problem+json" and (await r.json())["detail"]
    assert await _written(w.app, w.cid, key) == before == NOTHING
