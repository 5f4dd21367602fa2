"""Staff reporting for a resident who phoned may name them (`on_behalf_of.person_id`): the
reporter is then told of every step and asked whether they are satisfied, so they must belong to
the compound (own or live there, or serve in one of its organisations). A person of another
compound or an unknown id is a 422 naming them with nothing written (no issue, no event, no
Idempotency-Key kept), and without the directory a 503; a name alone still reports."""

from __future__ import annotations

import uuid

from aiohttp.test_utils import TestClient

from linli.http import POOL
from tests.conftest import assert_problem, bearer
from tests.integration.test_issues import World, issue_body, ok, world

__all__ = ["world"]  # fixture


async def _written(issues: TestClient, cid: str, key: str) -> dict[str, int]:
    async with issues.app[POOL].acquire() as conn:
        return {
            "issues": await conn.fetchval(
                "SELECT count(*) FROM issues WHERE compound_id = $1", uuid.UUID(cid)),
            "events": await conn.fetchval(
                "SELECT count(*) FROM outbox"
                " WHERE convert_from(payload, 'UTF8')::jsonb->>'compoundid' = $1", cid),
            "keys": await conn.fetchval("SELECT count(*) FROM idempotency WHERE key = $1", key),
        }


async def _person(w: World, name: str, cid: str | None = None, unit: str | None = None) -> str:
    """A person in the directory; the owner of `unit` of compound `cid` when given."""
    street = bearer(w.token(roles=["street_office"], compounds=["*"]))
    person = (await ok(await w.directory.post("/v1/people", json={"name": name},
                                              headers=street)))["id"]
    if cid and unit:
        await ok(await w.directory.post(f"/v1/compounds/{cid}/units/{unit}/owners",
                                        json={"person_id": person}, headers=street), 200)
    return str(person)


async def _other_owner(w: World) -> str:
    """The owner of a flat in another compound."""
    street = bearer(w.token(roles=["street_office"], compounds=["*"]))
    other = (await ok(await w.directory.post("/v1/compounds", json={
        "name": f"南山归侨安置小区{uuid.uuid4().hex[:6]}", "community": "南山社区",
        "street": "万安街道"}, headers=street)))["id"]
    building = (await ok(await w.directory.post(f"/v1/compounds/{other}/buildings", json={
        "name": "1号楼", "floors": 6}, headers=street)))["id"]
    unit = (await ok(await w.directory.post(f"/v1/compounds/{other}/units", json={
        "building_id": building, "floor": 1, "number": "101", "area": "70.00",
        "status": "delivered"}, headers=street)))["id"]
    return await _person(w, "南山业主", other, unit)


async def test_staff_cannot_report_for_a_person_of_another_compound(world: World) -> None:
    w = world
    stranger, nobody = await _other_owner(w), str(uuid.uuid4())
    key = f"phoned-{uuid.uuid4()}"
    staff = w.person("community") | {"Idempotency-Key": key}
    for person in (stranger, nobody):
        r = await w.issues.post(f"{w.base}/issues", headers=staff, json=issue_body(
            on_behalf_of={"name": "王阿姨", "person_id": person}))
        body = await assert_problem(r, 422, "validation-error")
        assert "不属于本小区" in body["detail"] and person in body["detail"], body
        assert body["errors"] == [{"field": "on_behalf_of.person_id", "detail": body["detail"]}]
    assert await _written(w.issues, w.cid, key) == {"issues": 0, "events": 0, "keys": 0}


async def test_staff_report_for_an_owner_of_the_compound_or_by_name_alone(world: World) -> None:
    w = world
    owner = await _person(w, "王阿姨", w.cid, w.unit)
    staff = w.person("community")
    named = await ok(await w.issues.post(f"{w.base}/issues", headers=staff, json=issue_body(
        on_behalf_of={"name": "王阿姨", "person_id": owner})))
    assert named["reporter_id"] == owner and named["on_behalf"] is True
    by_name = await ok(await w.issues.post(f"{w.base}/issues", headers=staff, json=issue_body(
        on_behalf_of={"name": "路过的李先生"})))
    assert by_name["reporter_id"] is None and by_name["on_behalf"] is True


async def test_without_the_directory_naming_a_resident_is_a_503_and_writes_nothing(
    world: World,
) -> None:
    """The compound known (its categories seeded while the directory answered), a report
    needs the directory only to check the person named: without it, a 503; a name alone
    still reports."""
    w = world
    staff = w.person("community")
    await ok(await w.issues.post(f"{w.base}/issues", headers=staff, json=issue_body()))
    await w.directory.close()
    key = f"phoned-{uuid.uuid4()}"
    before = await _written(w.issues, w.cid, key)
    r = await w.issues.post(f"{w.base}/issues", headers=staff | {"Idempotency-Key": key},
                            json=issue_body(on_behalf_of={"name": "王阿姨",
                                                          "person_id": str(uuid.uuid4())}))
    assert r.status == 503 and r.headers["Retry-After"].isdigit(), await r.text()
    assert r.content_type == "application/problem+json" and (await r.json())["detail"]
    assert await _written(w.issues, w.cid, key) == before == {"issues": 1, "events": 1, "keys": 0}
    await ok(await w.issues.post(f"{w.base}/issues", headers=staff, json=issue_body(
        on_behalf_of={"name": "王阿姨"})))
