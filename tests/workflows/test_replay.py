"""Recorded histories replay against today's workflow code without non-determinism errors.

A change to a workflow that would break the runs already in flight fails here. Re-record after
an intended, versioned change with:
    LINLI_RECORD_HISTORIES=1 .venv/bin/python -m pytest tests/workflows -q
or keep the old histories and add the new ones beside them (NAME.SUFFIX.json; the suffixes so
far: local-steps, local-writes, one-write; before-one-write: runs begun on the code before
one-write and finished on the code after it):
    LINLI_RECORD_HISTORIES=1 LINLI_RECORD_SUFFIX=local-steps .venv/bin/python -m pytest tests/workflows -q
"""

from __future__ import annotations

import json

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.workflows.conftest import HISTORIES
from workflows.care.workflow import CarePlanWorkflow
from workflows.centre_activity.workflow import ActivityWorkflow
from workflows.committee.workflow import CommitteeFoundingWorkflow
from workflows.follow_up.workflow import IssueFollowUpWorkflow
from workflows.proposal.workflow import ProposalWorkflow

FILES = sorted(HISTORIES.glob("*.json"))
# cancelled_mid_vote was recorded before a cancelled run cancelled its open vote in meetings
# (workflow.patched "cancel-open-vote"); cancelled_mid_vote_cancels_vote after.
PATHS = {"passes_first_time", "rejected_then_revised", "abandoned", "cancelled_mid_vote",
         "cancelled_mid_vote_cancels_vote", "milestone_overdue", "acceptance_with_defects",
         "review_scheduled", "managed_completed", "managed_cancelled_in_consultation",
         "managed_cancelled_in_vote", "blocked_then_abandoned", "blocked_then_cancelled"}
CARE_PATHS = {"care_plan_missed_then_ended", "care_plan_visit_recorded"}


def test_every_proposal_path_has_a_recorded_history() -> None:
    assert PATHS <= {f.stem for f in FILES}
    assert {"activity_closed", "activity_cancelled"} <= {f.stem for f in FILES}
    assert {"committee_founded", "committee_not_qualified",
            "committee_management_committee", "committee_founded_after_revote",
            "committee_member_changes"} <= {f.stem for f in FILES}


def test_every_proposal_path_is_recorded_with_local_steps_too() -> None:
    """Runs since workflow.patched("local-steps") (workflows/steps.py: the quick calls as local
    activities) replay as well as the runs recorded before it."""
    since = {f"{path}.local-steps" for path in PATHS - {"cancelled_mid_vote"}}
    assert since <= {f.stem for f in FILES}


def test_every_proposal_path_is_recorded_with_local_writes_too() -> None:
    """Runs since workflow.patched("local-writes") (workflows/proposal/workflow.py: the quick
    writes to meetings as local activities) replay as well as the runs recorded before it."""
    since = {f"{path}.local-writes" for path in PATHS - {"cancelled_mid_vote"}}
    assert since <= {f.stem for f in FILES}


def test_every_proposal_path_is_recorded_with_one_write_too() -> None:
    """Runs since workflow.patched("one-write") (workflows/steps.py: events published one right
    after another in one write; the older patches taken without asking) replay as well."""
    since = {f"{path}.one-write" for path in PATHS - {"cancelled_mid_vote"}}
    assert since | {"passes_without_milestones.one-write"} <= {f.stem for f in FILES}


def test_every_care_plan_path_has_a_recorded_history() -> None:
    assert CARE_PATHS <= {f.stem for f in FILES}


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
async def test_history_replays(path: object) -> None:
    text = HISTORIES.joinpath(str(path)).read_text(encoding="utf-8")
    workflow_id = json.loads(text)["events"][0]["workflowExecutionStartedEventAttributes"].get(
        "workflowId", "replayed")
    history = WorkflowHistory.from_json(workflow_id, text)
    replayer = Replayer(workflows=[ProposalWorkflow, IssueFollowUpWorkflow, CarePlanWorkflow,
                                   ActivityWorkflow, CommitteeFoundingWorkflow])
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
