"""ProposalWorkflow's plain dataclasses crossing the Temporal boundary: its input, signals,
updates, queries, results and activity arguments (the shared ones are in workflows/common_types.py).

Kept free of heavy imports: the workflow sandbox re-imports this module for every run.
Durations are seconds (JSON-friendly for the HTTP API). Instants going INTO a workflow (input,
signals, activity results) are ISO-8601 strings: the sandbox proxies the datetime class, so the
default converter cannot decode a datetime field there. Instants coming out (queries, results)
are datetimes.

Annotations stay real objects, not strings (see workflows/common_types.py).
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workflows.common_types import (  # noqa: F401  (the proposal's steps include the shared ends)
    ABANDONED,
    CANCELLED,
    COMPLETED,
    DAY,
    FINAL_STEPS,
    CancelRequest,
    StepRecord,
)

# Activity names: the workflow calls activities by name, so the real implementations
# (workflows/proposal/activities.py) and test doubles register under exactly these.
GET_PROPOSAL = "get_proposal"
OPEN_CONSULTATION = "open_consultation"
CLOSE_CONSULTATION = "close_consultation"
PUBLISH_VERSION = "publish_version"
OPEN_VOTE = "open_vote"
VOTE_NON_VOTERS = "vote_non_voters"
CLOSE_VOTE = "close_vote"
CANCEL_VOTE = "cancel_vote"
SCHEDULE_REVIEW = "schedule_review"
MARK_PROPOSAL = "mark_proposal"
WITHDRAW_PROPOSAL = "withdraw_proposal"
GET_VOTE_RESULT = "get_vote_result"
# the calls that only read meetings: quick, and harmless to repeat (workflows/steps.py LOCAL_STEPS)
READS = frozenset({GET_PROPOSAL, VOTE_NON_VOTERS, GET_VOTE_RESULT})
# the writes that take milliseconds and that meetings applies once however often they come
# (PUT managed-by; close a closed one): local activities too since workflow.patched
# ("local-writes"), each one a workflow task and an activity task less. Opening a consultation
# is not one: a local activity runs again when its workflow task is lost after the call (a
# worker restart), and every open posts the notice anew.
QUICK_WRITES = frozenset({MARK_PROPOSAL, CLOSE_CONSULTATION})

# What the workflow was doing when meetings refused it, for the people who unblock it.
CALL_LABELS = {
    GET_PROPOSAL: "读取议案", MARK_PROPOSAL: "标记议案由流程推进", OPEN_CONSULTATION: "开启征求意见",
    CLOSE_CONSULTATION: "结束征求意见", OPEN_VOTE: "开启表决", VOTE_NON_VOTERS: "查询未投票业主",
    CLOSE_VOTE: "结束表决并计票", GET_VOTE_RESULT: "读取表决结果",
}
BLOCKED_HELP = ("议事服务拒绝了这一步, 流程已暂停等待处理。召集组织可以: 先在议事服务中排除原因后"
                "“重试” (unblock, action=retry); 或“放弃议案” (unblock, action=abandon); 或取消流程。")

# Steps of ProposalWorkflow, in order of the happy path.
DRAFT, CONSULTATION, VOTE, REJECTED = "draft", "consultation", "vote", "rejected"
IMPLEMENTATION, ACCEPTANCE, SATISFACTION = "implementation", "acceptance", "satisfaction"


@dataclass
class MilestonePlan:
    """One piece of the works (e.g. 屋面隔热层) with its due date and who carries it out."""

    name: str
    due_at: str  # ISO-8601 with a UTC offset
    owner: str = ""


@dataclass
class ProposalInput:
    """Everything ProposalWorkflow needs; the proposal and its first version exist in meetings."""

    compound_id: str
    proposal_id: str
    convener: str
    # the convener's organisation: only callers in this role decide after a rejection or cancel
    convener_org: str = "party_branch"
    consultation_seconds: float = 14 * DAY
    consultation_reminders: list[float] = field(default_factory=lambda: [2 * DAY])
    vote_seconds: float = 14 * DAY
    vote_reminders: list[float] = field(default_factory=lambda: [3 * DAY, 1 * DAY])
    vote_grace_seconds: float = 3600.0
    max_rounds: int = 3
    decision_seconds: float = 30 * DAY
    milestones: list[MilestonePlan] = field(default_factory=list)
    defect_fix_seconds: float = 14 * DAY
    acceptance_seconds: float = 14 * DAY
    satisfaction_seconds: float = 30 * DAY


# ---------------------------------------------------------------- signals


@dataclass
class OpinionRecorded:
    """From linli.meetings.opinion.recorded (via the bridge)."""

    opinion_id: str
    stance: str
    version: int = 0


@dataclass
class VoteClosed:
    """From linli.meetings.vote.closed (via the bridge), or the fallback close."""

    vote_id: str
    outcome: str
    version: int = 0
    rule: str = ""
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class MilestoneProgress:
    """A progress report on one milestone; percent 100 finishes it."""

    milestone: str
    percent: int
    note: str = ""
    by: str = ""


@dataclass
class Rating:
    """A resident's satisfaction with the finished works, 1–5."""

    person_id: str
    score: int
    comment: str = ""


# ---------------------------------------------------------------- updates


@dataclass
class Revision:
    """A revised version of the proposal; `window` restarts or extends the consultation."""

    body: str
    change_summary: str
    budget_fen: int | None = None
    window: str = "restart"  # "restart" | "extend"
    extend_seconds: float = 7 * DAY
    by: str = ""


@dataclass
class Decision:
    """The convener's answer to a rejected vote."""

    action: str  # "revise" | "abandon"
    reason: str = ""
    revision: Revision | None = None
    by: str = ""


@dataclass
class ConsultationEnd:
    """The convener ends the consultation before its deadline (the vote opens), with a reason."""

    reason: str
    by: str = ""


@dataclass
class ConsultationExtension:
    """The convener extends the open consultation by `extend_seconds`, with a reason."""

    reason: str
    extend_seconds: float = 7 * DAY
    by: str = ""


@dataclass
class VoteCloseEarly:
    """The convener closes the open vote before its deadline (counted at once), with a reason."""

    reason: str
    by: str = ""


@dataclass
class Unblock:
    """Staff answer a blocked run: try the refused call again, or give the proposal up."""

    action: str  # "retry" | "abandon"
    reason: str = ""
    by: str = ""


@dataclass
class AcceptanceReport:
    """验收: sign-off by the owners' committee and resident representatives, or defects."""

    approved: bool
    signed_by: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


@dataclass
class ReviewMeeting:
    """Schedule a party–masses council (党群议事会) to review the consultation's opinions."""

    starts_at: str  # ISO-8601 with a UTC offset
    place: str = ""
    online_url: str = ""
    hours: float = 2.0
    by: str = ""


# ---------------------------------------------------------------- queries and results


@dataclass
class MilestoneStatus:
    name: str
    due_at: datetime
    owner: str = ""
    percent: int = 0
    done_at: datetime | None = None
    escalated_at: datetime | None = None
    note: str = ""


@dataclass
class ReviewScheduled:
    """A review meeting convened in meetings during a consultation."""

    meeting_id: str
    starts_at: datetime
    place: str
    round: int
    scheduled_at: datetime
    by: str = ""


@dataclass
class Blocked:
    """Meetings refused a call for good (a 4xx): the run waits here until staff retry or abandon."""

    step: str
    call: str  # the activity refused, e.g. "open_vote"
    call_label: str  # what the workflow was doing, in zh-CN
    reason: str  # meetings' answer
    since: datetime
    attempts: int = 1
    help: str = BLOCKED_HELP


@dataclass
class ProposalState:
    """What the `state` query answers: the current step, its deadlines and the history."""

    workflow: str
    proposal_id: str
    compound_id: str
    step: str
    round: int
    version: int
    vote_id: str | None
    deadlines: dict[str, datetime]
    history: list[StepRecord]
    opinions: dict[str, int]
    votes: list[VoteClosed]
    milestones: list[MilestoneStatus]
    ratings: int
    satisfaction: float | None
    cancel_reason: str | None = None
    # the round's vote: None before the vote step; "opening" while meetings opens it (vote_id is
    # still null), "open", "closed", or "cancelled" when the run's cancellation cancelled it
    vote_status: str | None = None
    convener_org: str = "party_branch"
    cancelled_by: str | None = None
    reviews: list[ReviewScheduled] = field(default_factory=list)
    managed: bool = False  # the run marked the proposal in meetings as its own
    rated: list[str] = field(default_factory=list)  # who has rated (one rating per person)
    blocked: Blocked | None = None  # meetings refused a call for good; staff retry or abandon


@dataclass
class ProposalSummary:
    """The workflow's result."""

    proposal_id: str
    outcome: str  # completed | abandoned | cancelled
    rounds: int
    opinions: dict[str, int]
    votes: list[VoteClosed]
    overdue_milestones: int
    defects: int
    ratings: int
    satisfaction: float | None
    reason: str
    history: list[StepRecord]


# ---------------------------------------------------------------- activity arguments


@dataclass
class ProposalRef:
    compound_id: str
    proposal_id: str


@dataclass
class ProposalInfo:
    title: str
    matter: str
    current_version: int
    status: str


@dataclass
class OpenWindow:
    """Open a consultation or a vote in meetings, closing at `closes_at`."""

    compound_id: str
    proposal_id: str
    closes_at: datetime


@dataclass
class NewVersion:
    compound_id: str
    proposal_id: str
    body: str
    change_summary: str
    budget_fen: int | None = None
    by: str = ""  # the person whose revise/decide this carries out (the version's author)


@dataclass
class VoteRef:
    compound_id: str
    proposal_id: str
    vote_id: str


@dataclass
class ProposalMark:
    """Mark the proposal as run by this workflow in meetings (workflow_id "" clears the mark)."""

    compound_id: str
    proposal_id: str
    workflow_id: str


@dataclass
class ProposalWithdrawal:
    """Withdraw the proposal in meetings (the workflow was cancelled); clears the mark."""

    compound_id: str
    proposal_id: str
    reason: str


@dataclass
class VoteCancel:
    """Cancel an open vote in meetings (the workflow was cancelled mid-vote)."""

    compound_id: str
    vote_id: str
    reason: str


@dataclass
class ReviewRequest:
    """Convene the review in meetings: the convener's organisation, the proposal on the agenda."""

    compound_id: str
    proposal_id: str
    convener_org: str
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str = ""
    online_url: str = ""


