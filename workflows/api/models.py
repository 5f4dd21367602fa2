"""Request and response types of the workflow HTTP API (msgspec Structs, documented in OpenAPI).

Workflow payloads themselves are dataclasses (each workflow's types.py, e.g.
workflows/proposal/types.py) checked in validation.py.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from workflows.committee import types as ct
from workflows.follow_up import types as ft
from workflows.proposal import types as pt

Key = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"\S")]


class StartIn(msgspec.Struct, forbid_unknown_fields=True):
    type: Literal["proposal", "issue_follow_up", "committee"]
    key: Key  # idempotency: the same key again returns the same run
    input: dict[str, Any]


class Started(msgspec.Struct):
    workflow_id: str
    run_id: str
    type: str
    status: str
    created: bool


class WorkflowView(msgspec.Struct):
    workflow_id: str
    run_id: str
    type: str
    status: str  # running | completed | failed | canceled | terminated | ...
    state: dict[str, Any]  # step, deadlines, history [{step, entered_at, left_at, outcome}], ...


class Accepted(msgspec.Struct):
    workflow_id: str
    signal: str
    step: str


class UpdateDone(msgspec.Struct):
    workflow_id: str
    update: str
    result: Any


class RatingIn(msgspec.Struct, forbid_unknown_fields=True):
    """A resident's own satisfaction with the finished works (the person is the token's)."""

    score: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=500)] = ""


class RatingDone(msgspec.Struct):
    workflow_id: str
    person_id: str
    score: int


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


# ---------------------------------------------------------------- what OpenAPI shows of a start
# The start body is decoded as StartIn (input checked by validation.py against the workflow's
# own dataclass); these tagged variants only document it: each type with its typed input and
# every default, so a client sees exactly what it may leave out.


class StartProposal(msgspec.Struct, tag="proposal", tag_field="type"):
    """Start a ProposalWorkflow (id proposal-<proposal_id>)."""

    key: Key
    input: pt.ProposalInput


class StartIssueFollowUp(msgspec.Struct, tag="issue_follow_up", tag_field="type"):
    """Start an IssueFollowUpWorkflow (id issue-<issue_id>)."""

    key: Key
    input: ft.IssueFollowUpInput


class StartCommittee(msgspec.Struct, tag="committee", tag_field="type"):
    """Start a CommitteeFoundingWorkflow (id committee-<compound_id>)."""

    key: Key
    input: ct.CommitteeInput


StartDoc = StartProposal | StartIssueFollowUp | StartCommittee
