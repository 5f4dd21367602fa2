"""Events the issues service publishes: the contract other services import.

subject = issue id and compound_id is set on every event. `status_changed` is published on
every status transition (a uniform audit feed); accepted / resolved / reopened additionally
carry what their consumers need.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from linli.events import event_type


class IssueReported(msgspec.Struct):
    issue_id: uuid.UUID
    compound_id: uuid.UUID
    category: str
    title: str
    responsible: str
    reporter_id: str | None = None
    on_behalf_by: str | None = None
    unit_id: uuid.UUID | None = None
    area: str | None = None


class IssueAccepted(msgspec.Struct):
    issue_id: uuid.UUID
    compound_id: uuid.UUID
    category: str
    respond_by: datetime | None = None
    resolve_by: datetime | None = None
    accepted_by: str | None = None


class IssueStatusChanged(msgspec.Struct):
    issue_id: uuid.UUID
    compound_id: uuid.UUID
    category: str
    from_status: str
    to_status: str
    changed_by: str | None = None
    note: str | None = None
    duplicate_of: uuid.UUID | None = None


class IssueResolved(msgspec.Struct):
    issue_id: uuid.UUID
    compound_id: uuid.UUID
    category: str
    reporter_id: str | None = None
    resolved_by: str | None = None
    note: str | None = None
    cosigner_ids: list[str] = []  # the co-signers hear it too


class IssueReopened(msgspec.Struct):
    issue_id: uuid.UUID
    compound_id: uuid.UUID
    category: str
    reason: str  # "reporter" | "unsatisfied"
    reopened_by: str | None = None


class IssueCosigned(msgspec.Struct):
    issue_id: uuid.UUID
    compound_id: uuid.UUID
    person_id: str
    cosign_count: int


class IssueOverdue(msgspec.Struct):
    issue_id: uuid.UUID
    compound_id: uuid.UUID
    category: str
    status: str
    responsible: str
    respond_by: datetime | None = None
    resolve_by: datetime | None = None


class IssueEscalated(msgspec.Struct):
    issue_id: uuid.UUID
    compound_id: uuid.UUID
    title: str
    category: str
    cosign_count: int
    reason: str  # "cosign_threshold" | "manual" | "overdue"
    escalated_by: str | None = None


class IssueReassigned(msgspec.Struct):
    issue_id: uuid.UUID
    compound_id: uuid.UUID
    category: str
    from_party: str
    to_party: str
    reassigned_by: str | None = None
    note: str | None = None


class IssueWithCouncil(msgspec.Struct):
    """The issue led to a proposal: the council works on it (its targets wait meanwhile)."""

    issue_id: uuid.UUID
    compound_id: uuid.UUID
    proposal_id: uuid.UUID
    proposal_title: str
    reporter_id: str | None = None


class IssueReturned(msgspec.Struct):
    """The proposal was abandoned or cancelled: the responsible party has the issue again."""

    issue_id: uuid.UUID
    compound_id: uuid.UUID
    proposal_id: uuid.UUID
    proposal_title: str
    responsible: str
    outcome: str  # "abandoned" | "cancelled"
    reporter_id: str | None = None
    respond_by: datetime | None = None
    resolve_by: datetime | None = None


class IssueCommented(msgspec.Struct):
    issue_id: uuid.UUID
    compound_id: uuid.UUID
    comment_id: uuid.UUID
    author_id: str | None = None
    official: bool = False


ISSUE_REPORTED = event_type("linli.issues.issue.reported", IssueReported, "居民或工作人员上报了问题")
ISSUE_ACCEPTED = event_type(
    "linli.issues.issue.accepted", IssueAccepted, "责任方已受理问题，带首次响应和解决期限"
)
ISSUE_STATUS_CHANGED = event_type(
    "linli.issues.issue.status_changed", IssueStatusChanged, "问题状态发生变化（每次流转都发布）"
)
ISSUE_RESOLVED = event_type("linli.issues.issue.resolved", IssueResolved, "问题已解决，等待居民确认")
ISSUE_REOPENED = event_type(
    "linli.issues.issue.reopened", IssueReopened, "问题被重新打开（上报人申请或居民评价未解决）"
)
ISSUE_COSIGNED = event_type("linli.issues.issue.cosigned", IssueCosigned, "又一位居民附议“我也遇到”")
ISSUE_OVERDUE = event_type(
    "linli.issues.issue.overdue", IssueOverdue, "问题超过首次响应或解决期限（每个问题只发布一次）"
)
ISSUE_ESCALATED = event_type(
    "linli.issues.issue.escalated", IssueEscalated, "问题已提交议事会（附议达到门槛、手动或逾期）"
)
ISSUE_REASSIGNED = event_type(
    "linli.issues.issue.reassigned", IssueReassigned, "问题改由另一责任方处理"
)
ISSUE_WITH_COUNCIL = event_type(
    "linli.issues.issue.with_council", IssueWithCouncil,
    "问题已纳入议案, 由议事会推进 (议事期间处理时限暂停)"
)
ISSUE_RETURNED = event_type(
    "linli.issues.issue.returned", IssueReturned,
    "问题所属的议案已放弃或取消, 问题退回责任方继续处理 (时限顺延议事期间)"
)
ISSUE_COMMENTED = event_type("linli.issues.issue.commented", IssueCommented, "问题下有新的留言或进展说明")
