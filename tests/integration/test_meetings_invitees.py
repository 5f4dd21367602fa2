"""People invited to a council by id (`person_ids` of POST /v1/compounds/{cid}/meetings) belong
to the compound: an owner, a household member, or someone serving today in one of its 1+3+N
organisations (the street office's official, a partner unit's engineer), wherever they live.
Anyone else, even one among many, refuses the whole meeting with a 422 naming them, and nothing
is written (no meeting, no convened event whose invitees notify would message, no
Idempotency-Key kept); without the directory, a 503."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from linli.config import Settings
from linli.directory import MEMBERS_BATCH
from linli.http import POOL
from linli.metrics import REGISTRY
from services.directory.app import create_app as directory_app
from services.directory.members import MAX_PEOPLE
from services.meetings.app import create_app
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer
from tests.integration.test_meetings_sessions import organisation
from tests.integration.test_meetings_support import Compound, new_compound, ok

STARTS = dt.datetime(2026, 7, 3, 19, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
async def apps(serve: AppFactory, settings: Settings) -> tuple[TestClient, TestClient]:
    directory = await serve(directory_app, port=settings.port("directory"))
    return directory, await serve(create_app)


def _body(convener: str, invited: list[str]) -> dict[str, Any]:
    return {"kind": "party_masses_council", "title": "顶楼隔热改造议事会",
            "starts_at": STARTS.isoformat(),
            "ends_at": (STARTS + dt.timedelta(hours=2)).isoformat(),
            "place": "阳光花园党群服务站二楼会议室", "convener_org_id": convener,
            "person_ids": invited}


async def _written(meetings: TestClient, cid: str, key: str) -> dict[str, int]:
    """What meetings holds of this compound's meetings or this Idempotency-Key."""
    async with meetings.app[POOL].acquire() as conn:
        return {
            "meetings": await conn.fetchval(
                "SELECT count(*) FROM meetings WHERE compound_id = $1", uuid.UUID(cid)),
            "invitees": await conn.fetchval(
                "SELECT count(*) FROM invitees i JOIN meetings m ON m.id = i.meeting_id"
                " WHERE m.compound_id = $1", uuid.UUID(cid)),
            "events": await conn.fetchval(
                "SELECT count(*) FROM outbox"
                " WHERE convert_from(payload, 'UTF8')::jsonb->>'compoundid' = $1", cid),
            "keys": await conn.fetchval("SELECT count(*) FROM idempotency WHERE key = $1", key),
        }


NOTHING = {"meetings": 0, "invitees": 0, "events": 0, "keys": 0}


async def test_a_resident_of_another_compound_is_not_invited_and_nothing_is_written(
    apps: tuple[TestClient, TestClient], token: TokenFactory,
) -> None:
    directory, meetings = apps
    c, other = await new_compound(directory, token), await new_compound(directory, token, "南山")
    branch = await organisation(c, "party_branch", "阳光花园党支部", "王书记", "书记")
    await other.unit("101", "70.00", "南山业主")
    stranger = other.people["南山业主"]
    secretary = bearer(token(roles=["party_branch"], compounds=[c.id], person=c.people["王书记"]))
    key = f"council-{uuid.uuid4()}"
    r = await meetings.post(f"/v1/compounds/{c.id}/meetings", json=_body(branch, [stranger]),
                            headers=secretary | {"Idempotency-Key": key})
    body = await assert_problem(r, 422, "validation-error")
    assert "不属于本小区" in body["detail"] and stranger in body["detail"], body
    assert body["errors"] == [{"field": "person_ids", "detail": body["detail"]}]
    assert await _written(meetings, c.id, key) == NOTHING


async def test_a_mixed_list_is_refused_whole_and_every_kind_of_member_is_invited(
    apps: tuple[TestClient, TestClient], token: TokenFactory,
) -> None:
    directory, meetings = apps
    c, other = await new_compound(directory, token), await new_compound(directory, token, "南山")
    branch = await organisation(c, "party_branch", "阳光花园党支部", "王书记", "书记")
    await c.unit("101", "89.50", "业主陈")
    tenant = await c.tenant("租户张")
    # guests who neither own nor live here, serving today in the compound's organisations
    await organisation(c, "street_office", "万安街道办事处", "街道刘科长", "科长")
    await organisation(c, "partner_unit", "市建筑设计院", "设计院周工", "工程师")
    await other.unit("101", "70.00", "南山业主")
    stranger, nobody = other.people["南山业主"], str(uuid.uuid4())
    members = [c.people["业主陈"], tenant, c.people["街道刘科长"], c.people["设计院周工"]]
    secretary = bearer(token(roles=["party_branch"], compounds=[c.id], person=c.people["王书记"]))
    key = f"council-{uuid.uuid4()}"
    headers = secretary | {"Idempotency-Key": key}
    url = f"/v1/compounds/{c.id}/meetings"
    r = await meetings.post(url, json=_body(branch, [*members, stranger, nobody]), headers=headers)
    detail = (await assert_problem(r, 422, "validation-error"))["detail"]
    assert stranger in detail and nobody in detail
    assert not any(m in detail for m in members), detail
    assert await _written(meetings, c.id, key) == NOTHING
    # nothing kept for the key either: the corrected list convenes under it
    meeting = await ok(await meetings.post(url, json=_body(branch, members), headers=headers), 201)
    assert {i["name"] for i in meeting["invitees"]} == {
        "王书记", "业主陈", "租户张", "街道刘科长", "设计院周工"}


async def _households_of(c: Compound, count: int) -> list[str]:
    """`count` people living in one household of the compound, written straight into the
    directory's tables (registering them one by one would take minutes)."""
    unit = await c.unit("501", "60.00", floor=5)
    household = await ok(await c.directory.post(f"/v1/compounds/{c.id}/households", json={
        "unit_id": unit, "name": "集体户"}, headers=c.street), 201)
    people = [uuid.uuid4() for _ in range(count)]
    async with c.directory.app[POOL].acquire() as conn:
        await conn.executemany("INSERT INTO people (id, name) VALUES ($1, $2)",
                               [(p, f"居民{n}") for n, p in enumerate(people)])
        await conn.executemany(
            "INSERT INTO residents (household_id, person_id, relation) VALUES ($1, $2, 'tenant')",
            [(uuid.UUID(household["id"]), p) for p in people])
    return [str(p) for p in people]


def _directory_served() -> tuple[float, float]:
    """The directory's answered members lookups and person reads (its /metrics counter; the
    test's servers share one process)."""
    def count(route: str, method: str) -> float:
        return REGISTRY.get_sample_value("linli_http_requests_total", {
            "service": "directory", "route": route, "method": method, "status": "200"}) or 0.0
    return (count("/v1/compounds/{compound_id}/members/lookup", "POST"),
            count("/v1/people/{person_id}", "GET"))


async def test_more_people_than_one_lookup_answers_are_checked_in_batches(
    apps: tuple[TestClient, TestClient], token: TokenFactory,
) -> None:
    """A council invites up to 2,000 people by name; the directory answers about 1,000 at once,
    so meetings asks in batches: 1,001 members convene, an outsider among 1,500 is named."""
    directory, meetings = apps
    c = await new_compound(directory, token)
    branch = await organisation(c, "party_branch", "阳光花园党支部", "王书记", "书记")
    secretary = bearer(token(roles=["party_branch"], compounds=[c.id], person=c.people["王书记"]))
    residents = await _households_of(c, 1_500)
    url = f"/v1/compounds/{c.id}/meetings"
    before = _directory_served()
    meeting = await ok(await meetings.post(url, json=_body(branch, residents[:1_001]),
                                           headers=secretary), 201)
    assert {i["name"] for i in meeting["invitees"]} == {
        "王书记", *(f"居民{n}" for n in range(1_001))}  # the secretary, then everyone named
    # two lookups answered who belongs and their names: no read of each person
    served = _directory_served()
    assert (served[0] - before[0], served[1] - before[1]) == (2, 0)
    stranger = str(uuid.uuid4())
    key = f"council-{uuid.uuid4()}"
    crowd = [*residents[:1_200], stranger, *residents[1_200:1_499]]  # 1,500, one outside
    r = await meetings.post(url, json=_body(branch, crowd),
                            headers=secretary | {"Idempotency-Key": key})
    body = await assert_problem(r, 422, "validation-error")
    assert body["errors"] == [{"field": "person_ids", "detail": body["detail"]}]
    assert body["detail"].endswith(stranger) and "不属于本小区" in body["detail"], body
    async with meetings.app[POOL].acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM meetings WHERE compound_id = $1",
                                   uuid.UUID(c.id)) == 1
        assert await conn.fetchval("SELECT count(*) FROM idempotency WHERE key = $1", key) == 0


def test_a_batch_is_what_the_directory_answers_at_once() -> None:
    assert MEMBERS_BATCH == MAX_PEOPLE


async def test_without_the_directory_the_whole_convening_path_is_a_503_and_writes_nothing(
    serve: AppFactory, token: TokenFactory,
) -> None:
    """Convening needs the directory for the roster (the convener organisation and the invited
    ones) as well as for the members check, so this covers the path as a whole, not the check
    alone (issues' and volunteers' tests single their check out)."""
    meetings = await serve(create_app)  # and no directory where meetings looks for it
    cid = str(uuid.uuid4())
    secretary = bearer(token(roles=["party_branch"], compounds=[cid]))
    key = f"down-{uuid.uuid4()}"
    r = await meetings.post(f"/v1/compounds/{cid}/meetings",
                            json=_body(str(uuid.uuid4()), [str(uuid.uuid4())]),
                            headers=secretary | {"Idempotency-Key": key})
    assert r.status == 503 and r.headers["Retry-After"].isdigit(), await r.text()
    assert r.content_type == "application/problem+json" and (await r.json())["detail"]
    assert await _written(meetings, cid, key) == NOTHING


async def _agenda_item(meetings: TestClient, c: Compound, branch: str,
                       secretary: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """A meeting the branch convenes with one agenda item: (the meeting's path, the item)."""
    meeting = await ok(await meetings.post(f"/v1/compounds/{c.id}/meetings",
                                           json=_body(branch, []), headers=secretary), 201)
    m = f"/v1/compounds/{c.id}/meetings/{meeting['id']}"
    item = await ok(await meetings.post(f"{m}/agenda", json={"title": "顶楼隔热"},
                                        headers=secretary), 201)
    return m, item


async def _an_item_and_a_stranger(
    apps: tuple[TestClient, TestClient], token: TokenFactory,
) -> tuple[Compound, Compound, dict[str, str], str, dict[str, Any]]:
    """A compound whose branch convenes a meeting with one item (owner 陈业主 in 201), and
    another compound with its owner 南山业主: (compound, other, secretary, meeting path, item)."""
    directory, meetings = apps
    c, other = await new_compound(directory, token), await new_compound(directory, token, "南山")
    branch = await organisation(c, "party_branch", "阳光花园党支部", "王书记", "书记")
    await c.unit("201", "90.00", "陈业主")
    await other.unit("101", "70.00", "南山业主")
    secretary = bearer(token(roles=["party_branch"], compounds=[c.id], person=c.people["王书记"]))
    m, item = await _agenda_item(meetings, c, branch, secretary)
    return c, other, secretary, m, item


async def _opinions_recorded(meetings: TestClient, item: dict[str, Any]) -> int:
    async with meetings.app[POOL].acquire() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM item_opinions WHERE item_id = $1",
                                       uuid.UUID(item["id"])))


async def test_a_speaker_recorded_in_the_minutes_belongs_to_the_compound(
    apps: tuple[TestClient, TestClient], token: TokenFactory,
) -> None:
    """An opinion at the meeting names its speaker by id, and the minutes are published to the
    compound: a speaker of another compound (or nobody) is refused with a 422 naming them and
    nothing is recorded; a speaker who belongs is recorded, with the directory's name when the
    secretary gave none."""
    meetings = apps[1]
    c, other, secretary, m, item = await _an_item_and_a_stranger(apps, token)
    said = f"{m}/agenda/{item['id']}/opinions"
    for stranger in (other.people["南山业主"], str(uuid.uuid4())):
        r = await meetings.post(said, json={"speaker_id": stranger, "speaker_name": "陈代表",
                                            "stance": "support", "text": "支持"},
                                headers=secretary)
        body = await assert_problem(r, 422, "validation-error")
        assert "不属于本小区" in body["detail"] and stranger in body["detail"], body
        assert body["errors"] == [{"field": "speaker_id", "detail": body["detail"]}]
    assert await _opinions_recorded(meetings, item) == 0
    done = await ok(await meetings.post(said, json={
        "speaker_id": c.people["陈业主"], "stance": "suggest", "text": "先做隔热层"},
        headers=secretary), 201)
    assert [(o["speaker_id"], o["speaker_name"]) for o in done["opinions"]] == [
        (c.people["陈业主"], "陈业主")]


async def test_the_convener_and_the_caller_speak_without_a_role_in_the_compound(
    apps: tuple[TestClient, TestClient], token: TokenFactory,
) -> None:
    """A street official convenes without a role in the compound, and a platform admin manages
    any meeting: each acts in the compound already, so their own opinions are recorded."""
    directory, meetings = apps
    c = await new_compound(directory, token)
    branch = await organisation(c, "party_branch", "阳光花园党支部", "王书记", "书记")
    official, admin = str(uuid.uuid4()), str(uuid.uuid4())  # nobody the directory knows here
    meeting = await ok(await meetings.post(
        f"/v1/compounds/{c.id}/meetings", json={**_body(branch, []), "organisation_ids": [branch]},
        headers=bearer(token(roles=["street_office"], compounds=[c.id], person=official))), 201)
    m = f"/v1/compounds/{c.id}/meetings/{meeting['id']}"
    secretary = bearer(token(roles=["party_branch"], compounds=[c.id], person=c.people["王书记"]))
    item = await ok(await meetings.post(f"{m}/agenda", json={"title": "顶楼隔热"},
                                        headers=secretary), 201)
    said = f"{m}/agenda/{item['id']}/opinions"
    await ok(await meetings.post(said, json={"speaker_id": official, "speaker_name": "街道李科长",
                                             "stance": "support", "text": "街道支持"},
                                 headers=secretary), 201)
    done = await ok(await meetings.post(said, json={
        "speaker_id": admin, "speaker_name": "平台管理员", "stance": "suggest", "text": "按规程"},
        headers=bearer(token(roles=["admin"], compounds=["*"], person=admin))), 201)
    assert [o["speaker_name"] for o in done["opinions"]] == ["街道李科长", "平台管理员"]


async def test_the_caller_and_the_convener_are_recorded_under_their_names(
    apps: tuple[TestClient, TestClient], token: TokenFactory,
) -> None:
    """Without a name given, the caller speaking is recorded under the name their token carries
    (a platform admin the directory does not know here), and the convener under the
    directory's name, whoever records them; so are the caller's own words when their token
    carries no name. The minutes drafted from the record name them, not their ids."""
    directory, meetings = apps
    c = await new_compound(directory, token)
    branch = await organisation(c, "party_branch", "阳光花园党支部", "王书记", "书记")
    convener = c.people["王书记"]
    secretary = bearer(token(roles=["party_branch"], compounds=[c.id], person=convener))
    m, item = await _agenda_item(meetings, c, branch, secretary)
    said = f"{m}/agenda/{item['id']}/opinions"
    admin_id = str(uuid.uuid4())  # nobody the directory knows
    admin = bearer(token(roles=["admin"], compounds=["*"], person=admin_id, name="平台管理员"))
    for speaker, stance, by in ((admin_id, "suggest", admin), (convener, "support", admin),
                                (convener, "oppose", secretary)):
        done = await ok(await meetings.post(said, json={
            "speaker_id": speaker, "stance": stance, "text": "意见"}, headers=by), 201)
    assert [(o["speaker_id"], o["speaker_name"]) for o in done["opinions"]] == [
        (admin_id, "平台管理员"), (convener, "王书记"), (convener, "王书记")]
    await ok(await meetings.post(f"{m}/minutes", headers=secretary), 201)
    text = (await ok(await meetings.get(f"{m}/minutes", headers=secretary)))["text"]
    for line in ("- 平台管理员 [建议]: 意见", "- 王书记 [支持]: 意见", "- 王书记 [反对]: 意见"):
        assert line in text, text


async def test_who_may_not_record_opinions_learns_nothing_of_who_belongs(
    apps: tuple[TestClient, TestClient], token: TokenFactory,
) -> None:
    """A resident of the compound who is not of the convener organisation is refused (403)
    whoever the speaker is: the directory is not asked for them, so the answer never tells
    whether a person id belongs to the compound, and nothing is recorded."""
    meetings = apps[1]
    c, other, _, m, item = await _an_item_and_a_stranger(apps, token)
    resident = bearer(token(roles=["owner", "resident"], compounds=[c.id],
                            person=c.people["陈业主"]))
    for speaker in (other.people["南山业主"], c.people["陈业主"], str(uuid.uuid4())):
        r = await meetings.post(f"{m}/agenda/{item['id']}/opinions", json={
            "speaker_id": speaker, "stance": "support", "text": "支持"}, headers=resident)
        await assert_problem(r, 403, "forbidden")
    assert await _opinions_recorded(meetings, item) == 0
