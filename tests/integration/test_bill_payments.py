"""Bills paid and unpaid over HTTP: the property company records a unit's share of a period's
bill as paid (once); the lines never recorded paid are what each unit owes, which the committee
founding reads for its candidates."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from linli.config import Settings
from services.directory.app import create_app as directory_app
from services.meetings.app import create_app
from tests.conftest import (
    AppFactory,
    TokenFactory,
    all_pages,
    assert_bad_limit,
    assert_problem,
    bearer,
)
from tests.integration.test_meetings_support import Compound, new_compound, ok


@pytest.fixture
async def apps(serve: AppFactory, settings: Settings) -> tuple[TestClient, TestClient]:
    directory = await serve(directory_app, port=settings.port("directory"))
    return directory, await serve(create_app)


async def billed(meetings: TestClient, c: Compound, token: TokenFactory, numbers: list[str],
                 periods: dict[str, int]) -> str:
    """An equal split of a cost over the units, billed for each period (fen); its path."""
    prop = bearer(token(roles=["property"], compounds=[c.id]))
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    cost = await ok(await meetings.post(f"/v1/compounds/{c.id}/costs", json={
        "name": "电梯电费", "beneficiaries": {"unit_ids": [c.units[n] for n in numbers]}},
        headers=prop), 201)
    k = f"/v1/compounds/{c.id}/costs/{cost['id']}"
    plan = await ok(await meetings.post(f"{k}/plans", json={
        "name": "按户均摊", "method": {"method": "equal"}}, headers=prop), 201)
    await ok(await meetings.post(f"{k}/plans/{plan['id']}/adopt", headers=branch))
    for period, fen in periods.items():
        await ok(await meetings.post(f"{k}/bills", json={"period": period, "total_fen": fen},
                                     headers=prop), 201)
    return k


async def test_payments_recorded_once_and_the_unpaid_lines_listed(
        apps: tuple[TestClient, TestClient], token: TokenFactory) -> None:
    directory, meetings = apps
    c = await new_compound(directory, token)
    for number in ("101", "102", "103"):
        await c.unit(number, "90.00", f"业主{number}")
    k = await billed(meetings, c, token, ["101", "102", "103"], {"2026-07": 300, "2026-08": 600})
    prop = bearer(token(roles=["property"], compounds=[c.id]))
    unpaid_url = f"/v1/compounds/{c.id}/unpaid-bills"

    def owed(page: dict[str, Any]) -> set[tuple[str, str, int]]:
        return {(line["unit_id"], line["period"], line["amount_fen"]) for line in page["items"]}

    u101, u102, u103 = (c.units[n] for n in ("101", "102", "103"))
    everything = {(u, p, fen) for u in (u101, u102, u103)
                  for p, fen in (("2026-07", 100), ("2026-08", 200))}
    assert owed(await ok(await meetings.get(unpaid_url, headers=prop))) == everything
    pages = await all_pages(meetings, unpaid_url, prop, limit=4)  # oldest period first, each once
    lines = [(x["unit_id"], x["period"], x["amount_fen"]) for p in pages for x in p]
    assert [len(p) for p in pages] == [4, 2] and sorted(lines, key=lambda x: x[1]) == lines
    assert set(lines) == everything and len(lines) == 6
    await assert_bad_limit(meetings, unpaid_url, prop)
    paid = await ok(await meetings.post(f"{k}/bills/2026-07/payments", json={
        "unit_id": u101, "paid_on": "2026-08-05"}, headers=prop), 201)
    assert (paid["amount_fen"], paid["paid_on"]) == (100, "2026-08-05")
    again = await ok(await meetings.post(f"{k}/bills/2026-07/payments", json={
        "unit_id": u101, "paid_on": "2026-09-01"}, headers=prop), 201)
    assert again["paid_on"] == "2026-08-05"  # the first record stands
    for period in ("2026-07", "2026-08"):
        await ok(await meetings.post(f"{k}/bills/{period}/payments", json={
            "unit_id": u102, "paid_on": "2026-09-01"}, headers=prop), 201)
    mine = await ok(await meetings.get(f"{unpaid_url}?unit_ids={u101},{u102}", headers=prop))
    assert owed(mine) == {(u101, "2026-08", 200)}
    assert mine["items"][0]["cost_name"] == "电梯电费"
    # who paid is the cost keepers' to see: the bills every member reads do not say
    bill = await ok(await meetings.get(f"{k}/bills/2026-07", headers=prop))
    assert not any({"paid_on", "recorded_by"} & set(line) for line in bill["lines"])
    assert "paid" not in str(bill)

    resident = bearer(token(roles=["resident", "owner"], compounds=[c.id]))
    await assert_problem(await meetings.post(f"{k}/bills/2026-07/payments", json={
        "unit_id": u103, "paid_on": "2026-09-01"}, headers=resident), 403, "forbidden")
    await assert_problem(await meetings.get(unpaid_url, headers=resident), 403, "forbidden")
    stranger = await c.unit("201", "80.00")
    refused = await assert_problem(await meetings.post(f"{k}/bills/2026-07/payments", json={
        "unit_id": stranger, "paid_on": "2026-09-01"}, headers=prop), 422, "validation-error")
    assert "不在这期账单" in refused["detail"]
    await assert_problem(await meetings.post(f"{k}/bills/2026-10/payments", json={
        "unit_id": u103, "paid_on": "2026-09-01"}, headers=prop), 404, "not-found")
    await assert_problem(await meetings.get(f"{unpaid_url}?unit_ids=nonsense", headers=prop),
                         422, "validation-error")
    assert owed(await ok(await meetings.get(f"{unpaid_url}?unit_ids={u103}", headers=prop))) == {
        (u103, "2026-07", 100), (u103, "2026-08", 200)}
