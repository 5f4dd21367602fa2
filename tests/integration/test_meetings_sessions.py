"""A party–masses council (党群议事会) over HTTP: from an escalated issue to published minutes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from linli import metrics
from linli.config import Settings
from linli.events import encode
from linli.http import JETSTREAM
from services.directory.app import create_app as directory_app
from services.issues.events import ISSUE_ESCALATED, IssueEscalated
from services.meetings.app import create_app
from services.meetings.consumers import SUBSCRIPTIONS
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer, eventually
from tests.integration.test_meetings_support import (
    Compound,
    new_compound,
    ok,
    outbox,
)

ESCALATED = next(s for s in SUBSCRIPTIONS if s.event is ISSUE_ESCALATED)


@pytest.fixture
async def apps(serve: AppFactory, settings: Settings) -> tuple[TestClient, TestClient]:
    # conftest types serve() without its port argument
    directory = await serve(directory_app, port=settings.port("directory"))
    return directory, await serve(create_app)


async def organisation(c: Compound, kind: str, name: str, person: str, title: str) -> str:
    org = await ok(await c.directory.post(f"/v1/compounds/{c.id}/organisations",
                                          json={"kind": kind, "name": name}, headers=c.street), 201)
    await ok(await c.directory.post(
        f"/v1/compounds/{c.id}/organisations/{org['id']}/roles",
        json={"person_id": await c.person(person), "title": title, "starts_on": "2026-01-01"},
        headers=c.street), 201)
    return str(org["id"])


async def escalate(meetings: TestClient, cid: str, title: str) -> str:
    """Publish linli.issues.issue.escalated the way the issues service's relay would, twice
    (a redelivery), and wait until meetings has taken both: one applied, one a duplicate."""
    issue_id = uuid.uuid4()
    event = ISSUE_ESCALATED.new(subject=str(issue_id), compound_id=cid, data=IssueEscalated(
        issue_id=issue_id, compound_id=uuid.UUID(cid), title=title, category="facilities",
        cosign_count=12, reason="cosign_threshold"))
    duplicates = metrics.EVENTS_CONSUMED.labels(ESCALATED.durable, event.type, "duplicate")
    before = duplicates._value.get()
    js = meetings.app[JETSTREAM]
    for _ in range(2):
        await js.publish(event.type, encode(event), headers={"Nats-Msg-Id": str(uuid.uuid4())})
    await eventually(lambda: duplicates._value.get() > before)  # after the first committed
    return str(issue_id)


async def test_council_from_escalated_issue_to_published_minutes(
    apps: tuple[TestClient, TestClient], token: TokenFactory
) -> None:
    directory, meetings = apps
    c = await new_compound(directory, token)
    branch_org = await organisation(c, "party_branch", "阳光花园党支部", "王书记", "书记")
    community = await organisation(c, "community", "万安社区居委会", "李主任", "主任")
    prop = await organisation(c, "property", "安居物业公司", "赵经理", "项目经理")
    await c.unit("101", "89.50", "陈代表")  # an owner: people invited by id live here
    rep = c.people["陈代表"]

    def person(name: str, *roles: str) -> dict[str, str]:
        return bearer(token(roles=list(roles), compounds=[c.id], person=c.people[name]))

    secretary = person("王书记", "party_branch")
    director = person("李主任", "community")
    resident = bearer(token(roles=["resident"], compounds=[c.id]))
    base = f"/v1/compounds/{c.id}"

    issue_id = await escalate(meetings, c.id, "顶楼夏天太热")
    proposed = await ok(await meetings.get(f"/v1/compounds/{c.id}/agenda-items",
                                           headers=secretary))  # once, though it came twice
    assert [(i["source"], i["issue_id"], i["meeting_id"]) for i in proposed["items"]] == [
        ("issue", issue_id, None)]

    starts = dt.datetime(2026, 7, 3, 19, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    body = {"kind": "party_masses_council", "title": "顶楼隔热改造议事会",
            "starts_at": starts.isoformat(), "ends_at": (starts + dt.timedelta(hours=2)).isoformat(),
            "place": "阳光花园党群服务站二楼会议室", "convener_org_id": branch_org,
            "organisation_ids": [community, prop], "person_ids": [rep]}
    await assert_problem(await meetings.post(f"{base}/meetings", json={
        **body, "organisation_ids": [str(uuid.uuid4())]}, headers=secretary), 422,
        "validation-error")
    await assert_problem(await meetings.post(f"{base}/meetings", json={  # nobody of that id
        **body, "person_ids": [str(uuid.uuid4())]}, headers=secretary), 422, "validation-error")
    meeting = await ok(await meetings.post(f"{base}/meetings", json=body, headers=secretary), 201)
    assert meeting["kind_label"] == "党群议事会" and meeting["convener_name"] == "阳光花园党支部"
    # a person invited by id has their name from the directory, like the organisations' members
    assert {i["name"] for i in meeting["invitees"]} == {"王书记", "李主任", "赵经理", "陈代表"}
    convened = [e for e in await outbox(meetings, meeting["id"]) if e["type"].endswith("convened")]
    assert sorted(convened[0]["data"]["invitee_names"]) == sorted(["王书记", "李主任", "赵经理", "陈代表"])
    assert convened[0]["data"]["place"] == "阳光花园党群服务站二楼会议室"
    m = f"{base}/meetings/{meeting['id']}"

    await assert_problem(await meetings.post(f"{m}/agenda", json={"item_id": proposed["items"][0]["id"]},
                                             headers=director), 403, "forbidden")
    first = await ok(await meetings.post(f"{m}/agenda", json={
        "item_id": proposed["items"][0]["id"], "presenter": "陈代表", "minutes": 20}, headers=secretary), 201)
    free = await ok(await meetings.post(f"{m}/agenda", json={"title": "暑期活动安排"},
                                        headers=secretary), 201)
    assert (first["position"], free["position"]) == (1, 2)
    assert (await ok(await meetings.get(f"{base}/agenda-items", headers=secretary)))["items"] == []

    await ok(await meetings.post(f"{m}/rsvp", json={"answer": "yes"}, headers=person("陈代表")))
    await assert_problem(await meetings.post(f"{m}/rsvp", json={"answer": "yes"},
                                             headers=resident), 403, "forbidden")
    for who in (secretary, director):
        await ok(await meetings.post(f"{m}/check-in", json={}, headers=who))
    quorum = await ok(await meetings.get(f"{m}/quorum", headers=resident))
    assert (quorum["invited"], quorum["present"], quorum["needed"]) == (4, 2, 2)
    assert quorum["organisations_missing"] == ["安居物业公司"] and not quorum["may_decide"]
    await assert_problem(await meetings.post(f"{m}/check-in", json={"person_id": c.people["赵经理"]},
                                             headers=director), 403, "forbidden")
    await ok(await meetings.post(f"{m}/check-in", json={"person_id": c.people["赵经理"]},
                                 headers=secretary))
    quorum = await ok(await meetings.get(f"{m}/quorum", headers=resident))
    assert quorum["met"] and quorum["may_decide"] and quorum["present"] == 3

    item = f"{m}/agenda/{first['id']}"
    await ok(await meetings.post(f"{item}/opinions", json={
        "speaker_id": rep, "speaker_name": "陈代表", "stance": "support",
        "text": "顶楼住户夏天室温超过 35 度"}, headers=secretary), 201)
    await ok(await meetings.post(f"{item}/opinions", json={
        "speaker_id": c.people["赵经理"], "speaker_name": "赵经理", "organisation_id": prop,
        "stance": "suggest", "text": "建议先做隔热层, 再议平改坡"}, headers=secretary), 201)
    await ok(await meetings.post(f"{item}/outcome", json={"outcome": "consensus",
                                                         "note": "先做隔热层"},
                                 headers=secretary))
    done = await ok(await meetings.post(f"{item}/actions", json={
        "title": "提交隔热层施工方案", "organisation_id": prop, "due_on": "2026-07-20"},
        headers=secretary), 201)
    assert len(done["opinions"]) == 2 and done["outcome"] == "consensus"

    await assert_problem(await meetings.get(f"{m}/minutes", headers=resident), 404, "not-found")
    draft = await ok(await meetings.post(f"{m}/minutes", headers=secretary), 201)
    assert "达成共识" in draft["text"] and "提交隔热层施工方案" in draft["text"]
    assert "赵经理 (安居物业公司) [建议]" in draft["text"]
    await assert_problem(await meetings.post(f"{m}/minutes/publish", json={"notice_days": 7},
                                             headers=secretary), 409, "minutes-not-approved")
    edited = await ok(await meetings.put(f"{m}/minutes", json={"text": draft["text"] + "\n补充"},
                                         headers=secretary))
    assert edited["text"].endswith("补充")
    await assert_problem(await meetings.post(f"{m}/minutes/approve", headers=director), 403,
                         "forbidden")
    await ok(await meetings.post(f"{m}/minutes/approve", headers=secretary))
    await assert_problem(await meetings.put(f"{m}/minutes", json={"text": "改"},
                                            headers=secretary), 409, "minutes-approved")
    published = await ok(await meetings.post(f"{m}/minutes/publish", json={"notice_days": 7},
                                             headers=secretary))
    notice = dt.datetime.fromisoformat(published["notice_until"]) - \
        dt.datetime.fromisoformat(published["published_at"])
    assert published["status"] == "published" and notice == dt.timedelta(days=7)
    assert (await ok(await meetings.get(f"{m}/minutes", headers=resident)))["text"] \
        == edited["text"]
    types = [e["type"] for e in await outbox(meetings, meeting["id"])]
    assert types == ["linli.meetings.meeting.convened", "linli.meetings.minutes.published"]

    ics = await meetings.get(f"{base}/meetings.ics", headers=resident)
    assert ics.status == 200 and ics.content_type == "text/calendar"
    raw = await ics.read()
    lines = raw.decode().split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR"
    assert f"UID:{meeting['id']}@linli" in lines and "DTSTART:20260703T113000Z" in lines
    assert all(len(line.encode()) <= 75 for line in lines)
    unfolded = raw.decode().replace("\r\n ", "")
    assert "SUMMARY:党群议事会: 顶楼隔热改造议事会" in unfolded


async def test_agenda_items_opinions_and_follow_ups_retried_with_their_key_are_recorded_once(
    apps: tuple[TestClient, TestClient], token: TokenFactory
) -> None:
    """The secretary's tablet resending after a lost answer (the README's creating POSTs take
    `Idempotency-Key`): each of the agenda item, the speaker's opinion and the follow-up is
    recorded once and the retry gets the first answer; the key with another body is a 422."""
    directory, meetings = apps
    c = await new_compound(directory, token)
    branch_org = await organisation(c, "party_branch", "阳光花园党支部", "王书记", "书记")
    secretary = bearer(token(roles=["party_branch"], compounds=[c.id], person=c.people["王书记"]))
    starts = dt.datetime(2026, 7, 3, 19, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    meeting = await ok(await meetings.post(f"/v1/compounds/{c.id}/meetings", json={
        "kind": "party_masses_council", "title": "楼道堆物清理议事会",
        "starts_at": starts.isoformat(), "ends_at": (starts + dt.timedelta(hours=1)).isoformat(),
        "place": "党群服务站", "convener_org_id": branch_org}, headers=secretary), 201)
    m = f"/v1/compounds/{c.id}/meetings/{meeting['id']}"

    async def once(url: str, body: dict[str, object], other: dict[str, object]) -> dict[str, Any]:
        key = {"Idempotency-Key": f"council-{uuid.uuid4()}"}
        first = await meetings.post(url, json=body, headers=secretary | key)
        again = await meetings.post(url, json=body, headers=secretary | key)
        assert (first.status, again.status) == (201, 201), await again.text()
        assert again.headers.get("Idempotent-Replayed") == "true"
        answer: dict[str, Any] = await first.json()
        assert await again.json() == answer
        await assert_problem(await meetings.post(url, json=body | other, headers=secretary | key),
                             422, "validation-error")
        return answer

    item = await once(f"{m}/agenda", {"title": "楼道堆物清理"}, {"title": "电动车充电"})
    i = f"{m}/agenda/{item['id']}"
    await once(f"{i}/opinions", {"speaker_id": c.people["王书记"], "stance": "support",
                                 "text": "先发通知, 一周后统一清理"}, {"stance": "oppose"})
    await once(f"{i}/actions", {"title": "张贴清理通知", "organisation_id": branch_org,
                                "due_on": "2026-07-10"}, {"due_on": "2026-07-11"})
    agenda = (await ok(await meetings.get(m, headers=secretary), 200))["agenda"]
    assert [a["title"] for a in agenda] == ["楼道堆物清理"]
    assert [len(agenda[0]["opinions"]), len(agenda[0]["actions"])] == [1, 1]
