"""Who hears what: the reporter and the compound's party branch and owners' committee (from
the directory's roster), named invitees, or the compound's notice board; redelivered events
add nothing, and an unreachable directory delays notifications instead of losing them."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from typing import Any

import msgspec
import pytest
from aiohttp.test_utils import TestClient

from linli import metrics
from linli.config import Settings
from linli.events import EventType
from services.directory.app import create_app as directory_app
from services.issues import events as issue_events
from services.meetings import events as meeting_events
from tests.conftest import AppFactory, TokenFactory, assert_problem, eventually
from tests.integration.test_meetings_support import Compound, new_compound
from tests.integration.test_notify_support import (
    NotifyFactory,
    People,
    Person,
    Publisher,
    inbox,
    nats_js,
    notices,
    ok,
    publisher,
    start_notify,
)
from workflows import events as wf_events

TITLE = "顶楼隔热改造"  # the proposal the events are about

__all__ = ["nats_js", "publisher", "start_notify"]  # fixtures


@pytest.fixture
def people(token: TokenFactory) -> People:
    return People(token)


async def organisation(c: Compound, kind: str, person: str) -> str:
    org = await ok(await c.directory.post(f"/v1/compounds/{c.id}/organisations",
                                          json={"kind": kind, "name": f"{kind}组织"},
                                          headers=c.street), 201)
    await ok(await c.directory.post(
        f"/v1/compounds/{c.id}/organisations/{org['id']}/roles",
        json={"person_id": await c.person(person), "title": "成员", "starts_on": "2026-01-01"},
        headers=c.street), 201)
    return c.people[person]


async def council(c: Compound) -> tuple[str, str, str]:
    """Party branch secretary, owners' committee chair and a property manager (not council)."""
    return (await organisation(c, "party_branch", "王书记"),
            await organisation(c, "owners_committee", "陈主任"),
            await organisation(c, "property", "林经理"))


async def escalate(publisher: Publisher, cid: str, reporter: str) -> tuple[uuid.UUID, Any]:
    issue_id = uuid.uuid4()
    await publisher.emit(issue_events.ISSUE_REPORTED, issue_events.IssueReported(
        issue_id=issue_id, compound_id=uuid.UUID(cid), category="facilities", title="顶楼太热",
        responsible="owners_committee", reporter_id=reporter, area="roof"),
        subject=str(issue_id), compound_id=cid)
    event = await publisher.emit(issue_events.ISSUE_ESCALATED, issue_events.IssueEscalated(
        issue_id=issue_id, compound_id=uuid.UUID(cid), title="顶楼太热", category="facilities",
        cosign_count=12, reason="cosign_threshold"), subject=str(issue_id), compound_id=cid)
    return issue_id, event


def _as(people: People, cid: str, pid: str) -> Person:
    return people(cid, "resident", person=pid)


async def _one(notify: TestClient, who: Person) -> list[dict[str, Any]] | None:
    items = await inbox(notify, who)
    return items or None


async def test_escalation_reaches_reporter_and_council_once(
    serve: AppFactory, settings: Settings, token: TokenFactory, people: People,
    publisher: Publisher, start_notify: NotifyFactory,
) -> None:
    directory = await serve(directory_app, port=settings.port("directory"))
    notify = await start_notify()
    c = await new_compound(directory, token)
    secretary, chair, manager = await council(c)
    reporter = people(c.id)
    issue_id, event = await escalate(publisher, c.id, reporter.id)
    for pid in (reporter.id, secretary, chair):
        items = await eventually(functools.partial(_one, notify, _as(people, c.id, pid)))
        assert [i["title"] for i in items] == ["问题“顶楼太热”已提交议事会"]
        assert "附议人数达到门槛" in items[0]["body"] and "12" in items[0]["body"]
    assert await inbox(notify, _as(people, c.id, manager)) == []
    # the same event delivered again (a crash before the ack) changes nothing
    durable = f"{_prefix(notify)}-issue-escalated"
    duplicates = metrics.EVENTS_CONSUMED.labels(durable, event.type, "duplicate")
    before = duplicates._value.get()
    await publisher.redeliver(event)
    await eventually(lambda: _bigger(duplicates, before))
    for pid in (reporter.id, secretary, chair):
        assert len(await inbox(notify, _as(people, c.id, pid))) == 1
    # an overdue issue goes the same way; the follow-up survey only to the reporter
    await publisher.emit(issue_events.ISSUE_OVERDUE, issue_events.IssueOverdue(
        issue_id=issue_id, compound_id=uuid.UUID(c.id), category="facilities", status="accepted",
        responsible="owners_committee", resolve_by=dt.datetime(2026, 11, 20, 2, tzinfo=dt.UTC)),
        subject=str(issue_id), compound_id=c.id)
    await publisher.emit(wf_events.FOLLOW_UP_REMINDER_DUE, wf_events.ReminderDue(
        workflow_id=f"follow-up-{issue_id}", entity_id=str(issue_id), compound_id=c.id,
        kind="satisfaction_open", audience="reporter"), subject=str(issue_id), compound_id=c.id)
    mine = await eventually(functools.partial(_at_least, notify, reporter, 3))
    by_kind = {i["kind"]: i for i in mine}  # separate consumers: no order between them
    assert set(by_kind) == {"issue_follow_up", "issue_overdue", "issue_escalated"}
    overdue = by_kind["issue_overdue"]["body"]
    assert "业主委员会" in overdue and "2026年11月20日 10:00" in overdue
    for pid in (secretary, chair):
        items = await eventually(functools.partial(_at_least, notify, _as(people, c.id, pid), 2))
        assert {i["kind"] for i in items} == {"issue_overdue", "issue_escalated"}


async def _at_least(notify: TestClient, who: Person, n: int) -> list[dict[str, Any]] | None:
    items = await inbox(notify, who)
    return items if len(items) >= n else None


def _prefix(notify: TestClient) -> str:
    from services.notify.app import PREFIX

    return notify.app[PREFIX]


async def _bigger(counter: Any, before: float) -> bool:
    return bool(counter._value.get() > before)


async def test_directory_down_delays_the_council_notice_until_it_is_back(
    serve: AppFactory, settings: Settings, token: TokenFactory, people: People,
    publisher: Publisher, start_notify: NotifyFactory,
) -> None:
    directory = await serve(directory_app, port=settings.port("directory"))
    c = await new_compound(directory, token)
    secretary, chair, _ = await council(c)
    await directory.close()
    notify = await start_notify(max_deliver=10)
    reporter = people(c.id)
    durable = f"{_prefix(notify)}-issue-escalated"
    failed = metrics.EVENTS_CONSUMED.labels(durable, issue_events.ISSUE_ESCALATED.name, "failed")
    before = failed._value.get()
    await escalate(publisher, c.id, reporter.id)
    await eventually(lambda: _bigger(failed, before))
    # nothing half-written: the reporter's row rolled back with the failed roster call
    assert await inbox(notify, reporter) == []
    await serve(directory_app, port=settings.port("directory"))
    for pid in (reporter.id, secretary, chair):
        await eventually(functools.partial(_one, notify, _as(people, c.id, pid)), within=20)


async def test_an_event_whose_audience_stays_unknown_is_dead_lettered(
    people: People, publisher: Publisher, start_notify: NotifyFactory,
) -> None:
    notify = await start_notify(max_deliver=2)
    cid = str(uuid.uuid4())
    reporter = people(cid)
    issue_id = uuid.uuid4()  # never reported: its reporter cannot be known
    durable = f"{_prefix(notify)}-issue-commented"
    dead = metrics.EVENTS_DEAD_LETTERED.labels(durable, issue_events.ISSUE_COMMENTED.name)
    before = dead._value.get()
    await publisher.emit(issue_events.ISSUE_COMMENTED, issue_events.IssueCommented(
        issue_id=issue_id, compound_id=uuid.UUID(cid), comment_id=uuid.uuid4(), official=True),
        subject=str(issue_id), compound_id=cid)
    await eventually(lambda: _bigger(dead, before))
    assert await inbox(notify, reporter) == []


async def test_meetings_and_workflows_fill_the_notice_board_and_invitees_inboxes(
    serve: AppFactory, settings: Settings, token: TokenFactory, people: People,
    publisher: Publisher, start_notify: NotifyFactory,
) -> None:
    directory = await serve(directory_app, port=settings.port("directory"))
    notify = await start_notify()
    c = await new_compound(directory, token)
    secretary, chair, _ = await council(c)
    cid, pid = c.id, uuid.uuid4()
    invitee, resident, outsider = people(cid), people(cid), people(str(uuid.uuid4()))
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    ev = meeting_events
    sent: list[tuple[EventType[Any], msgspec.Struct]] = [
        (ev.MEETING_CONVENED, ev.MeetingConvened(
            meeting_id=uuid.uuid4(), compound_id=uuid.UUID(cid), kind="party_masses_council",
            title="屋顶改造议事会", starts_at="2026-12-01T11:00:00Z",
            invitee_ids=[uuid.UUID(invitee.id)], invitee_names=["林淑芬", "王书记"],
            place="党群服务站")),
        (ev.CONSULTATION_OPENED, ev.ConsultationChanged(
            proposal_id=pid, compound_id=uuid.UUID(cid), version=2, status="open", closes_at=soon,
            title=TITLE)),
        (ev.VOTE_OPENED, ev.VoteOpened(
            vote_id=uuid.uuid4(), proposal_id=pid, compound_id=uuid.UUID(cid), version=2,
            rule="civil_code_major", secret=False, closes_at=soon, roll_entries=120,
            total_area_centi=1_000_000, total_headcount=118, title=TITLE)),
        (ev.VOTE_CLOSED, ev.VoteClosed(
            vote_id=uuid.uuid4(), proposal_id=pid, compound_id=uuid.UUID(cid), version=2,
            rule="civil_code_major", outcome="passed", result={}, title=TITLE)),
        (ev.MINUTES_PUBLISHED, ev.MinutesPublished(
            meeting_id=uuid.uuid4(), compound_id=uuid.UUID(cid), title="屋顶改造议事会",
            published_at=soon, notice_until=soon)),
        # a zero bill is not announced; a run's first step (no previous step) is no news
        (ev.BILLS_ISSUED, ev.BillsIssued(
            cost_id=uuid.uuid4(), bill_id=uuid.uuid4(), plan_id=uuid.uuid4(),
            compound_id=uuid.UUID(cid), period="2026-10", total_fen=0, units=40)),
        (wf_events.PROPOSAL_STEP_CHANGED, wf_events.StepChanged(
            workflow_id=f"proposal-{pid}", entity_id=str(pid), compound_id=cid,
            step="draft", previous="", outcome="", round=1, at=dt.datetime.now(dt.UTC))),
        (ev.BILLS_ISSUED, ev.BillsIssued(
            cost_id=uuid.uuid4(), bill_id=uuid.uuid4(), plan_id=uuid.uuid4(),
            compound_id=uuid.UUID(cid), period="2026-11", total_fen=123456, units=40,
            name="二次供水加压泵电费")),
        (wf_events.PROPOSAL_STEP_CHANGED, wf_events.StepChanged(
            workflow_id=f"proposal-{pid}", entity_id=str(pid), compound_id=cid,
            step="implementation", previous="vote", outcome="passed", round=1,
            at=dt.datetime.now(dt.UTC), title=TITLE)),
        (wf_events.PROPOSAL_REMINDER_DUE, wf_events.ReminderDue(
            workflow_id=f"proposal-{pid}", entity_id=str(pid), compound_id=cid,
            kind="consultation_ending", audience="residents", deadline=dt.datetime.now(dt.UTC),
            title=TITLE)),
        (wf_events.PROPOSAL_REMINDER_DUE, wf_events.ReminderDue(
            workflow_id=f"proposal-{pid}", entity_id=str(pid), compound_id=cid,
            kind="vote_ending", audience="non_voters", person_ids=[resident.id], title=TITLE)),
        (wf_events.PROPOSAL_REMINDER_DUE, wf_events.ReminderDue(
            workflow_id=f"proposal-{pid}", entity_id=str(pid), compound_id=cid,
            kind="acceptance_due", audience="owners_committee", title=TITLE)),
        (wf_events.PROPOSAL_MILESTONE_OVERDUE, wf_events.MilestoneOverdue(
            workflow_id=f"proposal-{pid}", proposal_id=str(pid), compound_id=cid,
            milestone="屋面防水", due_at=dt.datetime.now(dt.UTC), owner="安居物业", percent=40,
            escalate_to=["party_branch"], title=TITLE)),
        (wf_events.PROPOSAL_BLOCKED, wf_events.WorkflowBlocked(
            workflow_id=f"proposal-{pid}", entity_id=str(pid), compound_id=cid, step="vote",
            call="open_vote", reason="议事服务拒绝开启表决 (409): 议案已撤回, 不能表决",
            title=TITLE, audience="party_branch")),
    ]
    for kind, data in sent:
        await publisher.emit(kind, data, subject=str(pid), compound_id=cid)
    board = await eventually(lambda: _board(notify, cid, resident, 7))
    titles = {n["kind"]: n["title"] for n in board}
    # every notice names what it is about: the proposal's title, the cost's name
    assert titles == {
        "consultation_opened": "议案“顶楼隔热改造”征求意见（第 2 版）",
        "vote_opened": "议案“顶楼隔热改造”开始业主表决",
        "vote_closed": "议案“顶楼隔热改造”表决结果：通过",
        "minutes_published": "会议纪要公示：屋顶改造议事会",
        "bills_issued": "二次供水加压泵电费 2026-11 分摊账单已出具",
        "proposal_step_changed": "议案“顶楼隔热改造”进入“实施”阶段",
        "proposal_reminder": "议案“顶楼隔热改造”：征求意见即将截止"}
    assert "1234.56 元" in next(n["body"] for n in board if n["kind"] == "bills_issued")
    # the rule label says the whole rule: who takes part and who must agree, both ways
    assert "三分之二以上的业主参与表决" in next(n["body"] for n in board if n["kind"] == "vote_opened")
    step = next(n["body"] for n in board if n["kind"] == "proposal_step_changed")
    assert "“表决”结果：通过" in step and "无" not in step
    [meeting] = await eventually(lambda: _one(notify, invitee))
    assert meeting["title"] == "会议通知：屋顶改造议事会" and "2026年12月1日 19:00" in meeting["body"]
    assert "在党群服务站召开，受邀：林淑芬、王书记" in meeting["body"]  # names, not ids
    [vote] = await eventually(lambda: _one(notify, resident))
    assert vote["title"] == "议案“顶楼隔热改造”：表决即将截止，您尚未投票"
    chair_items = await eventually(lambda: _one(notify, _as(people, cid, chair)))
    assert [i["title"] for i in chair_items] == ["议案“顶楼隔热改造”：实施项目待验收"]
    async def two(who: Person) -> list[dict[str, Any]] | None:
        items = await inbox(notify, who)
        return items if len(items) >= 2 else None

    secretary_items = await eventually(lambda: two(_as(people, cid, secretary)))
    assert sorted(i["title"] for i in secretary_items) == [
        "议案“顶楼隔热改造”的实施节点“屋面防水”逾期", "议案“顶楼隔热改造”的流程受阻，等待处理"]
    blocked = next(i for i in secretary_items if i["kind"] == "proposal_blocked")
    assert "议案已撤回, 不能表决" in blocked["body"] and "重试" in blocked["body"]
    # the board is for the compound's members only
    await assert_problem(await notify.get(f"/v1/compounds/{cid}/notices",
                                          headers=outsider.headers), 403, "forbidden")
    elsewhere = str(uuid.uuid4())
    assert await notices(notify, elsewhere, people(elsewhere)) == []


async def _board(notify: TestClient, cid: str, who: Person, n: int) -> list[dict[str, Any]] | None:
    items = await notices(notify, cid, who)
    return items if len(items) >= n else None


async def test_an_issue_following_its_proposal_is_told_to_reporter_cosigners_and_its_party(
    serve: AppFactory, settings: Settings, token: TokenFactory, people: People,
    publisher: Publisher, start_notify: NotifyFactory,
) -> None:
    """With the council: the reporter hears which proposal; back to the party: the party and the
    reporter hear why; resolved by the proposal: the reporter and the co-signers hear it."""
    directory = await serve(directory_app, port=settings.port("directory"))
    notify = await start_notify()
    c = await new_compound(directory, token)
    _, _, manager = await council(c)
    reporter, neighbour = people(c.id), people(c.id)
    cid, pid = uuid.UUID(c.id), uuid.uuid4()
    returned, resolved = uuid.uuid4(), uuid.uuid4()
    for issue_id in (returned, resolved):
        await publisher.emit(issue_events.ISSUE_REPORTED, issue_events.IssueReported(
            issue_id=issue_id, compound_id=cid, category="facilities", title="顶楼太热",
            responsible="property", reporter_id=reporter.id, area="roof"),
            subject=str(issue_id), compound_id=c.id)
    await publisher.emit(issue_events.ISSUE_WITH_COUNCIL, issue_events.IssueWithCouncil(
        issue_id=returned, compound_id=cid, proposal_id=pid, proposal_title=TITLE,
        reporter_id=reporter.id), subject=str(returned), compound_id=c.id)
    await publisher.emit(issue_events.ISSUE_RETURNED, issue_events.IssueReturned(
        issue_id=returned, compound_id=cid, proposal_id=pid, proposal_title=TITLE,
        responsible="property", outcome="abandoned", reporter_id=reporter.id,
        resolve_by=dt.datetime(2026, 12, 20, 2, tzinfo=dt.UTC)), subject=str(returned),
        compound_id=c.id)
    await publisher.emit(issue_events.ISSUE_RESOLVED, issue_events.IssueResolved(
        issue_id=resolved, compound_id=cid, category="facilities", reporter_id=reporter.id,
        resolved_by="议事会", note="议案“顶楼隔热改造”已实施并通过验收，问题随之解决",
        cosigner_ids=[neighbour.id]), subject=str(resolved), compound_id=c.id)
    mine = await eventually(functools.partial(_at_least, notify, reporter, 3))
    assert sorted(i["title"] for i in mine) == [
        "您反映的问题“顶楼太热”已交议事会", "您反映的问题“顶楼太热”已解决", "问题“顶楼太热”退回物业服务企业"]
    back = next(i["body"] for i in mine if i["kind"] == "issue_returned")
    assert "议案“顶楼隔热改造”已放弃" in back and "2026年12月20日 10:00" in back
    [theirs] = await eventually(functools.partial(_one, notify, neighbour))
    assert theirs["title"] == "您反映的问题“顶楼太热”已解决" and "顶楼隔热改造" in theirs["body"]
    [party] = await eventually(functools.partial(_one, notify, _as(people, c.id, manager)))
    assert party["kind"] == "issue_returned"
