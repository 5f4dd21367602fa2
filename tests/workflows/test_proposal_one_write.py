"""Events a proposal publishes one right after another go out in one outbox write
(workflows/steps.py ONE_WRITE), in the order they happened and each once.

A proposal without milestones passes straight through implementation into acceptance: both
step_changed events, then satisfaction and its reminder, are each written by one local
activity (record_events). The outbox keeps their order, which the notice board and the
portal's timeline show.
"""

from __future__ import annotations

import json

from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from linli import db
from tests.workflows.conftest import events_of
from tests.workflows.council import Council
from tests.workflows.test_proposal import DAY, at_step, finish, proposal, steps, vote_closed
from workflows.common_types import RECORD_EVENTS
from workflows.proposal import types as t
from workflows.proposal.workflow import ProposalWorkflow


async def test_a_proposal_without_milestones_goes_from_its_vote_to_acceptance(
        time_env: WorkflowEnvironment, pool: db.Pool, council: Council) -> None:
    async with proposal(time_env, pool, council) as run:
        await at_step(run.handle, t.CONSULTATION)
        await time_env.sleep(14 * DAY + 60)
        await vote_closed(run, "agree")
        state = await at_step(run.handle, t.ACCEPTANCE)
        assert [h.step for h in state.history][-2:] == [t.IMPLEMENTATION, t.ACCEPTANCE]
        assert set(state.deadlines) == {"acceptance_due"}
        await run.handle.execute_update(ProposalWorkflow.accept,
                                        t.AcceptanceReport(True, ["业委会主任"]))
        await at_step(run.handle, t.SATISFACTION)
        summary = await finish(run, "passes_without_milestones")
        history = await run.handle.fetch_history()
    assert summary.outcome == t.COMPLETED
    assert steps(summary) == [t.DRAFT, t.CONSULTATION, t.VOTE, t.IMPLEMENTATION, t.ACCEPTANCE,
                              t.SATISFACTION, t.COMPLETED]
    events = await events_of(pool, run.pid)
    kinds = [e["data"]["step"] if e["type"].endswith("step_changed") else e["data"].get("kind")
             for e in events]
    assert [k for k in kinds if k in steps(summary)] == steps(summary)
    assert kinds.index(t.SATISFACTION) + 1 == kinds.index("satisfaction_open")
    assert len({e["id"] for e in events}) == len(events)
    # two writes of two events each: implementation + acceptance, satisfaction + its reminder
    markers = [json.dumps(e.marker_recorded_event_attributes.details["data"].payloads[0].data.decode())
               for e in history.events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
               and "data" in e.marker_recorded_event_attributes.details]
    assert sum(RECORD_EVENTS in m for m in markers) == 2
