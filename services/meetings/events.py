"""Events the meetings service publishes: the contract other services (and workflows) import.

Subject is the proposal id for proposal, consultation, opinion and vote events, the meeting id
for meeting events, the cost id for cost-sharing events; compound_id is set on every event.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from linli.events import event_type


class ProposalChanged(msgspec.Struct):
    proposal_id: uuid.UUID
    compound_id: uuid.UUID
    title: str
    matter: str
    version: int
    change_summary: str = ""
    # the residents' issues the proposal answers (issues marks them as with the council)
    issue_ids: list[uuid.UUID] = []


class ConsultationChanged(msgspec.Struct):
    proposal_id: uuid.UUID
    compound_id: uuid.UUID
    version: int
    status: str  # "open" | "closed"
    closes_at: str  # ISO 8601
    title: str = ""  # the proposal's, for the notices people read


class OpinionRecorded(msgspec.Struct):
    proposal_id: uuid.UUID
    compound_id: uuid.UUID
    version: int
    stance: str  # "support" | "oppose" | "suggest"
    opinion_id: uuid.UUID


class VoteOpened(msgspec.Struct):
    vote_id: uuid.UUID
    proposal_id: uuid.UUID
    compound_id: uuid.UUID
    version: int
    rule: str
    secret: bool
    closes_at: str
    roll_entries: int
    total_area_centi: int
    total_headcount: int
    title: str = ""  # the proposal's


class VoteClosed(msgspec.Struct):
    vote_id: uuid.UUID
    proposal_id: uuid.UUID
    compound_id: uuid.UUID
    version: int
    rule: str
    outcome: str  # "passed" | "rejected"
    result: dict[str, Any]  # tally.TallyResult.to_dict()
    title: str = ""  # the proposal's


class BallotCast(msgspec.Struct):
    """A ballot was counted in (or changed on) an open vote or election: what moved the
    turnout, never whose ballot or what it says."""

    vote_id: uuid.UUID
    proposal_id: uuid.UUID
    compound_id: uuid.UUID
    version: int
    channel: str  # "online" | "paper" | "proxy"
    changed: bool  # an open vote's ballot changed: the turnout did not move


class VoteCancelled(msgspec.Struct):
    vote_id: uuid.UUID
    proposal_id: uuid.UUID
    compound_id: uuid.UUID
    version: int
    reason: str
    cancelled_by: str


class MeetingConvened(msgspec.Struct):
    meeting_id: uuid.UUID
    compound_id: uuid.UUID
    kind: str
    title: str
    starts_at: str
    invitee_ids: list[uuid.UUID]
    invitee_names: list[str] = []  # who is invited, by name (the directory's), for the notice
    place: str = ""


class MeetingCancelled(msgspec.Struct):
    meeting_id: uuid.UUID
    compound_id: uuid.UUID
    title: str
    starts_at: str
    reason: str
    cancelled_by: str
    # the centre releases this booking when the meeting is cancelled
    venue_booking_id: uuid.UUID | None = None


class AgendaItemProposed(msgspec.Struct):
    item_id: uuid.UUID
    compound_id: uuid.UUID
    title: str
    source: str  # "issue" | "proposal" | "free"
    meeting_id: uuid.UUID | None = None
    issue_id: uuid.UUID | None = None
    proposal_id: uuid.UUID | None = None


class MinutesPublished(msgspec.Struct):
    meeting_id: uuid.UUID
    compound_id: uuid.UUID
    title: str
    published_at: str
    notice_until: str  # 公示 ends


class PlanAdopted(msgspec.Struct):
    cost_id: uuid.UUID
    plan_id: uuid.UUID
    compound_id: uuid.UUID
    name: str
    method: dict[str, Any]


class BillsIssued(msgspec.Struct):
    cost_id: uuid.UUID
    bill_id: uuid.UUID
    plan_id: uuid.UUID
    compound_id: uuid.UUID
    period: str
    total_fen: int
    units: int
    name: str = ""  # the cost's (e.g. 二次供水加压泵电费)


PROPOSAL_CREATED = event_type("linli.meetings.proposal.created", ProposalChanged, "提出了新的议案")
PROPOSAL_REVISED = event_type(
    "linli.meetings.proposal.revised", ProposalChanged, "议案形成了新版本 (根据意见修改)"
)
CONSULTATION_OPENED = event_type(
    "linli.meetings.consultation.opened", ConsultationChanged, "议案开始 (或延长) 征求意见"
)
CONSULTATION_CLOSED = event_type(
    "linli.meetings.consultation.closed", ConsultationChanged, "议案征求意见结束"
)
OPINION_RECORDED = event_type(
    "linli.meetings.opinion.recorded", OpinionRecorded, "居民对议案某一版本提出了意见"
)
VOTE_OPENED = event_type(
    "linli.meetings.vote.opened", VoteOpened, "议案某一版本开始表决, 业主名册已冻结"
)
VOTE_CLOSED = event_type(
    "linli.meetings.vote.closed", VoteClosed, "表决结束, 附各项门槛的应达值与实达值及结果"
)
BALLOT_CAST = event_type(
    "linli.meetings.ballot.cast", BallotCast,
    "表决 (或选举) 收到一张选票或改票 (不含投票人与意见, 用于实时参与情况)"
)
VOTE_CANCELLED = event_type(
    "linli.meetings.vote.cancelled", VoteCancelled, "表决在结束前被取消, 不计票, 选票留存备查"
)
MEETING_CONVENED = event_type("linli.meetings.meeting.convened", MeetingConvened, "召集了议事会议")
MEETING_CANCELLED = event_type(
    "linli.meetings.meeting.cancelled", MeetingCancelled, "召集组织取消了会议 (附原因)"
)
AGENDA_ITEM_PROPOSED = event_type(
    "linli.meetings.agenda_item.proposed", AgendaItemProposed, "提出了会议议程事项"
)
MINUTES_PUBLISHED = event_type(
    "linli.meetings.minutes.published", MinutesPublished, "会议纪要经召集人批准后公示"
)
PLAN_ADOPTED = event_type("linli.meetings.plan.adopted", PlanAdopted, "采纳了费用分摊方案")
BILLS_ISSUED = event_type("linli.meetings.bills.issued", BillsIssued, "按采纳的方案出具了分摊账单")
