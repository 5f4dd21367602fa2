"""Who may see whom: people are read only within the caller's compounds, full phone numbers
only by staff of a compound where the person owns or lives (or by the person); residents see
units without their owners, and the roll is for staff and vote officers."""

from __future__ import annotations

import uuid

from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory, assert_problem, bearer
from tests.integration.test_directory import directory, make_compound, post_ok, street

__all__ = ["directory", "street"]  # fixtures


async def _owner(client: TestClient, cid: str, street: dict[str, str], number: str,
                 *owners: str) -> str:
    b = await post_ok(client, f"/v1/compounds/{cid}/buildings",
                      {"name": f"{number}楼", "floors": 6}, street)
    unit = await post_ok(client, f"/v1/compounds/{cid}/units", {
        "building_id": b["id"], "floor": 1, "number": number, "area": "89.50"}, street)
    for person in owners:
        await post_ok(client, f"/v1/compounds/{cid}/units/{unit['id']}/owners",
                      {"person_id": person}, street, 200)
    return str(unit["id"])


async def _person(client: TestClient, street: dict[str, str]) -> tuple[str, str]:
    phone = f"136{uuid.uuid4().int % 10**8:08d}"
    made = await post_ok(client, "/v1/people", {"name": "林秀兰", "phone": phone}, street)
    return str(made["id"]), phone


async def test_people_are_read_within_the_callers_compounds_only(
    directory: TestClient, street: dict[str, str], token: TokenFactory,
) -> None:
    a, b = await make_compound(directory, street, "甲小区"), await make_compound(directory, street, "乙小区")
    owner, phone = await _person(directory, street)
    await _owner(directory, a, street, "101", owner)
    tenant, tenant_phone = await _person(directory, street)  # lives in B, owns nothing
    unit_b = await _owner(directory, b, street, "201")
    household = await post_ok(directory, f"/v1/compounds/{b}/households",
                              {"unit_id": unit_b, "name": "租户"}, street)
    await post_ok(directory, f"/v1/compounds/{b}/households/{household['id']}/residents",
                  {"person_id": tenant, "relation": "tenant"}, street, 200)

    def read(person: str, roles: list[str], compounds: list[str], me: str | None = None):
        return directory.get(f"/v1/people/{person}",
                             headers=bearer(token(roles=roles, compounds=compounds, person=me)))

    for roles in (["community"], ["property"], ["resident"]):  # B's staff and residents: not found
        await assert_problem(await read(owner, roles, [b]), 404, "not-found")
    masked = await (await read(owner, ["resident"], [a])).json()
    assert masked["phone"] == f"136****{phone[-4:]}" and masked["name"] == "林秀兰"
    for roles in (["community"], ["property"], ["party_branch"]):
        assert (await (await read(owner, roles, [a])).json())["phone"] == phone
    # staff of B reading A's owner by naming both compounds: A's staff role is what shows it
    assert (await (await read(tenant, ["community"], [a, b])).json())["phone"] == tenant_phone
    assert (await (await read(tenant, ["community"], [b])).json())["phone"] == tenant_phone
    await assert_problem(await read(tenant, ["community"], [a]), 404, "not-found")
    assert (await (await read(owner, ["resident"], [], me=owner)).json())["phone"] == phone
    assert (await (await directory.get(f"/v1/people/{owner}", headers=street)).json())["phone"] == phone


async def test_residents_see_units_without_owners_and_no_roll(
    directory: TestClient, street: dict[str, str], token: TokenFactory,
) -> None:
    cid = await make_compound(directory, street)
    wife, _ = await _person(directory, street)
    husband, _ = await _person(directory, street)
    unit = await _owner(directory, cid, street, "301", wife, husband)
    neighbour = bearer(token(roles=["resident", "owner"], compounds=[cid]))
    own = bearer(token(roles=["resident", "owner"], compounds=[cid], person=wife))
    listing = await (await directory.get(f"/v1/compounds/{cid}/units", headers=neighbour)).json()
    assert [u["owner_ids"] for u in listing["items"]] == [[]]
    assert listing["items"][0]["area"] == "89.50"
    seen = await (await directory.get(f"/v1/compounds/{cid}/units/{unit}", headers=neighbour)).json()
    assert seen["owner_ids"] == []
    mine = await (await directory.get(f"/v1/compounds/{cid}/units/{unit}", headers=own)).json()
    assert mine["owner_ids"] == [wife]  # herself, not her co-owner
    for who in (neighbour, own):
        await assert_problem(await directory.get(f"/v1/compounds/{cid}/roll", headers=who),
                             403, "forbidden")
    for roles in (["community"], ["officer"], ["owners_committee"]):
        staff = bearer(token(roles=roles, compounds=[cid]))
        roll = await (await directory.get(f"/v1/compounds/{cid}/roll", headers=staff)).json()
        assert sorted(roll["entries"][0]["owner_ids"]) == sorted([wife, husband])
        listed = await (await directory.get(f"/v1/compounds/{cid}/units", headers=staff)).json()
        assert sorted(listed["items"][0]["owner_ids"]) == sorted([wife, husband])
