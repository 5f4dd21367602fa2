"""The committee founding's steps on the notice board and its reminders to the committee and
the street office, in Chinese."""

from __future__ import annotations

import datetime as dt

from linli.config import Settings
from services.directory.app import create_app as directory_app
from tests.conftest import AppFactory, TokenFactory
from tests.integration.test_meetings_support import new_compound
from tests.integration.test_notify_audiences import _as, _board, _one, organisation, people
from tests.integration.test_notify_support import (
    NotifyFactory,
    People,
    Publisher,
    eventually,
    nats_js,
    publisher,
    start_notify,
)
from workflows import events as wf_events

__all__ = ["nats_js", "people", "publisher", "start_notify"]  # fixtures


async def test_founding_steps_reach_the_board_and_reminders_the_organisations(
    serve: AppFactory, settings: Settings, token: TokenFactory, people: People,
    publisher: Publisher, start_notify: NotifyFactory,
) -> None:
    directory = await serve(directory_app, port=settings.port("directory"))
    notify = await start_notify()
    c = await new_compound(directory, token)
    chair = await organisation(c, "owners_committee", "陈主任")
    officer = await organisation(c, "street_office", "街道干部")
    resident = people(c.id)
    await publisher.emit(wf_events.COMMITTEE_STEP_CHANGED, wf_events.StepChanged(
        workflow_id=f"committee-{c.id}", entity_id=c.id, compound_id=c.id,
        step="candidate_publicity", previous="rules_and_candidates", outcome="nominated",
        round=1, at=dt.datetime.now(dt.UTC), note="公示 7 天, 至 2026-12-10"),
        subject=c.id, compound_id=c.id)
    [notice] = await eventually(lambda: _board(notify, c.id, resident, 1))
    assert notice["title"] == "业主委员会成立：进入“候选人名单公示”阶段"
    assert notice["body"] == "上一阶段：议事规则、管理规约与候选人提名。公示 7 天, 至 2026-12-10"
    for audience in ("owners_committee", "street_office"):
        await publisher.emit(wf_events.COMMITTEE_REMINDER_DUE, wf_events.ReminderDue(
            workflow_id=f"committee-{c.id}", entity_id=c.id, compound_id=c.id,
            kind="committee_term_ending", audience=audience,
            deadline=dt.datetime(2031, 12, 1, 16, tzinfo=dt.UTC)), subject=c.id, compound_id=c.id)
    for person in (chair, officer):
        [told] = await eventually(lambda p=person: _one(notify, _as(people, c.id, p)))
        assert told["title"] == "业主委员会提醒：业主委员会任期将满，请启动换届"
        assert "2031年12月2日 00:00" in told["body"]
