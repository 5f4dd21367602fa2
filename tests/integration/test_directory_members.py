"""Who belongs to a compound, many people at once (POST /v1/compounds/{cid}/members/lookup):
owners, residents of its households and people serving today (China's day) in its organisations
do; people of another compound, former and future role holders and unknown ids do not. Apps and
platform admins only."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from aiohttp.test_utils import TestClient

from linli.config import Settings
from linli.values import china_today
from services.directory.app import create_app
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer
from tests.integration.test_meetings_support import Compound, new_compound, ok

NOTIFY = "notify:internal"  # the scope of notify's own service token


async def _role(c: Compound, kind: str, name: str, starts: dt.date, ends: dt.date | None) -> str:
    org = await ok(await c.directory.post(f"/v1/compounds/{c.id}/organisations", json={
        "kind": kind, "name": f"{name}的{kind}"}, headers=c.street), 201)
    await ok(await c.directory.post(f"/v1/compounds/{c.id}/organisations/{org['id']}/roles", json={
        "person_id": await c.person(name), "title": "成员", "starts_on": starts.isoformat(),
        "ends_on": ends.isoformat() if ends else None}, headers=c.street), 201)
    return c.people[name]


async def lookup(directory: TestClient, cid: str, ids: list[str], headers: dict[str, str]) -> Any:
    return await directory.post(f"/v1/compounds/{cid}/members/lookup", json={"person_ids": ids},
                                headers=headers)


async def test_owners_residents_and_current_role_holders_belong_and_nobody_else(
    serve: AppFactory, token: TokenFactory,
) -> None:
    directory = await serve(create_app)
    c, other = await new_compound(directory, token), await new_compound(directory, token, "南山")
    today = china_today()
    await c.unit("101", "89.50", "业主王")
    inside = [c.people["业主王"], await c.tenant("租户张", "201"),
              await _role(c, "property", "林经理", today - dt.timedelta(days=30), None)]
    former = await _role(c, "owners_committee", "前主任", today - dt.timedelta(days=400),
                         today - dt.timedelta(days=1))
    future = await _role(c, "community", "新委员", today + dt.timedelta(days=7), None)
    await other.unit("101", "70.00", "南山业主")
    outside = [other.people["南山业主"], former, future, str(uuid.uuid4())]
    asked = [outside[0], inside[0], *inside[1:], inside[0], *outside[1:]]  # one named twice
    found = await ok(await lookup(directory, c.id, asked, bearer(token(
        app="notify", scopes=[NOTIFY], compounds=["*"]))))
    assert found == {"compound_id": c.id, "members": inside, "outside": outside,
                     "names": dict(zip(inside, ["业主王", "租户张", "林经理"], strict=True))}
    # the other compound sees the same people the other way round
    theirs = await ok(await lookup(directory, other.id, inside + outside[:1], bearer(token(
        app="notify", scopes=[NOTIFY], compounds=["*"]))))
    assert theirs["members"] == outside[:1] and theirs["outside"] == inside


async def test_only_apps_acting_in_the_compound_may_ask_and_bad_asks_are_problems(
    serve: AppFactory, token: TokenFactory,
) -> None:
    directory = await serve(create_app)
    c = await new_compound(directory, token)
    ids = [await c.person("某人")]
    for refused in (token(roles=["community", "street_office"], compounds=["*"]),  # staff learn nothing
                    token(roles=["admin"], compounds=[str(uuid.uuid4())]),  # an admin elsewhere
                    token(app="workflows", scopes=["workflows:internal"], compounds=["*"]),
                    token(app="reader", scopes=["directory:read"], compounds=[str(uuid.uuid4())])):
        await assert_problem(await lookup(directory, c.id, ids, bearer(refused)), 403, "forbidden")
    app = bearer(token(app="reader", scopes=["directory:read"], compounds=[c.id]))
    assert (await ok(await lookup(directory, c.id, ids, app)))["outside"] == ids
    # a platform admin reads the register and the roll anyway: the route table says so
    admin = bearer(token(roles=["admin"], compounds=["*"]))
    assert (await ok(await lookup(directory, c.id, ids, admin)))["outside"] == ids
    await assert_problem(await lookup(directory, str(uuid.uuid4()), ids, app), 403, "forbidden")
    everywhere = bearer(token(app="notify", scopes=[NOTIFY], compounds=["*"]))
    await assert_problem(await lookup(directory, str(uuid.uuid4()), ids, everywhere), 404,
                         "not-found")
    for bad in ([], ["not-a-uuid"], [str(uuid.uuid4()) for _ in range(1_001)]):
        await assert_problem(await lookup(directory, c.id, bad, everywhere), 422,
                             "validation-error")
    spec = await (await directory.get("/openapi.json")).json()
    operation = spec["paths"]["/v1/compounds/{compound_id}/members/lookup"]["post"]
    access = operation["x-linli-access"]
    assert "no app tokens" not in access and "notify:internal" in access, access
    assert access.startswith("roles: admin;"), access


def _a_day_behind_china(database_url: str) -> str:
    """The URL with a session time zone whose date is China's yesterday (12 hours before the
    start of China's today, whatever the hour now): the day the database's current_date names
    between 00:00 and 08:00 China time, when it runs in UTC as embedded PostgreSQL does."""
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
    west = now.hour + 12 - 8  # POSIX: hours west of UTC; local time is then yesterday ~12:00
    zone = f"%3CX%3E%2B{west}"  # <X>+west
    return database_url + ("&" if "?" in database_url else "?") + f"timezone={zone}"


async def test_a_role_counts_on_chinas_days_not_the_databases(
    serve: AppFactory, settings: Settings, token: TokenFactory,
) -> None:
    """A role that ended on China's yesterday no longer counts, one starting on China's today
    does, whatever day the database session's time zone makes current_date."""
    directory = await serve(lambda s: create_app(s.with_overrides(
        database_url=_a_day_behind_china(s.database_url))))
    c = await new_compound(directory, token)
    today = china_today()
    ended = await _role(c, "owners_committee", "前主任", today - dt.timedelta(days=400),
                        today - dt.timedelta(days=1))
    started = await _role(c, "community", "新委员", today, None)
    app = bearer(token(app="notify", scopes=[NOTIFY], compounds=["*"]))
    found = await ok(await lookup(directory, c.id, [ended, started], app))
    assert (found["members"], found["outside"]) == ([started], [ended])
    # the sign-in identity names the same roles
    portal = bearer(token(app="portal", scopes=["directory:identify"], compounds=["*"]))
    mine = await ok(await directory.get(f"/v1/identities/{started}", headers=portal))
    assert [(m["compound_id"], m["roles"]) for m in mine["memberships"]] == [
        (c.id, ["resident", "community"])]
    theirs = await ok(await directory.get(f"/v1/identities/{ended}", headers=portal))
    assert theirs["memberships"] == []
