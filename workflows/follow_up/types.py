"""IssueFollowUpWorkflow's plain dataclasses crossing the Temporal boundary: its input,
signals, state and activity arguments (instants going in are ISO-8601 strings, see
workflows/proposal/types.py).

Annotations stay real objects, not strings (see workflows/common_types.py).
"""

from dataclasses import dataclass
from datetime import datetime

from workflows.common_types import (  # noqa: F401  (the follow-up's steps include the shared ends)
    CANCELLED,
    COMPLETED,
    DAY,
    CancelRequest,
    StepRecord,
)

# Activity names (workflows/follow_up/activities.py and the test doubles register under these).
GET_ISSUE = "get_issue"
ESCALATE_ISSUE = "escalate_issue"
REOPEN_ISSUE = "reopen_issue"


@dataclass
class IssueFollowUpInput:
    compound_id: str
    issue_id: str
    category: str = ""
    respond_by: str | None = None  # ISO-8601
    resolve_by: str | None = None
    satisfaction_seconds: float = 7 * DAY


@dataclass
class IssueResolved:
    reporter_id: str | None = None
    event_id: str | None = None  # the issue.resolved event's: a redelivered one is no new resolution


@dataclass
class SatisfactionAnswer:
    satisfied: bool
    comment: str = ""
    by: str = ""


@dataclass
class IssueRef:
    compound_id: str
    issue_id: str


@dataclass
class IssueInfo:
    status: str
    first_response_at: str | None = None
    resolved_at: str | None = None


@dataclass
class Escalation:
    compound_id: str
    issue_id: str
    reason: str


@dataclass
class FollowUpState:
    workflow: str
    issue_id: str
    compound_id: str
    step: str
    deadlines: dict[str, datetime]
    history: list[StepRecord]
    escalated: bool
    satisfied: bool | None
    reopened: int
    cancel_reason: str | None = None
