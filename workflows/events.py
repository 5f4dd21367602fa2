"""Events the workflows publish (through the worker's outbox): the contract other services import.

subject = the entity id (proposal id or issue id); compound_id is set on every event. The notify
service turns `reminder_due` and `milestone_overdue` into notices for the people concerned.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from linli.events import event_type


class StepChanged(msgspec.Struct):
    workflow_id: str
    entity_id: str
    compound_id: str
    step: str
    previous: str | None
    outcome: str  # how the previous step ended, e.g. "passed", "defects", "cancelled"
    round: int
    at: datetime
    note: str = ""
    title: str = ""  # the entity's (e.g. the proposal's title), for the notices people read


class ReminderDue(msgspec.Struct):
    workflow_id: str
    entity_id: str
    compound_id: str
    kind: str  # consultation_opened | consultation_ending | vote_ending | acceptance_due | ...
    audience: str  # residents | non_voters | owners_committee | reporter
    deadline: datetime | None = None
    person_ids: list[str] = msgspec.field(default_factory=list)
    title: str = ""  # the entity's


class MilestoneOverdue(msgspec.Struct):
    workflow_id: str
    proposal_id: str
    compound_id: str
    milestone: str
    due_at: datetime
    owner: str
    percent: int
    escalate_to: list[str]  # roles: owners_committee, party_branch
    title: str = ""  # the proposal's


class WorkflowBlocked(msgspec.Struct):
    workflow_id: str
    entity_id: str
    compound_id: str
    step: str
    call: str  # the call the other service refused, e.g. "open_vote"
    reason: str  # zh-CN, with the service's answer
    title: str  # the proposal's title, for the people told
    audience: str  # the role asked to retry or abandon (the convener's organisation)
    attempts: int = 1


PROPOSAL_STEP_CHANGED = event_type(
    "linli.workflows.proposal.step_changed", StepChanged,
    "议题流程进入新阶段 (草案、征求意见、表决、未通过、实施、验收、满意度评价、完成、放弃或取消)",
)
PROPOSAL_REMINDER_DUE = event_type(
    "linli.workflows.proposal.reminder_due", ReminderDue,
    "议题流程需要通知或提醒相关人员 (征求意见开始与截止前、表决截止前未投票业主、验收到期、满意度评价)",
)
PROPOSAL_MILESTONE_OVERDUE = event_type(
    "linli.workflows.proposal.milestone_overdue", MilestoneOverdue,
    "实施节点逾期未完成, 上报业主委员会和党组织",
)
PROPOSAL_BLOCKED = event_type(
    "linli.workflows.proposal.blocked", WorkflowBlocked,
    "议事服务拒绝了议题流程的一步 (不会自动重试): 流程暂停, 等召集组织重试、放弃或取消",
)
FOLLOW_UP_STEP_CHANGED = event_type(
    "linli.workflows.issue_follow_up.step_changed", StepChanged,
    "问题跟踪流程进入新阶段 (跟踪时限、已上报、满意度回访、已重新打开、完成或取消)",
)
FOLLOW_UP_REMINDER_DUE = event_type(
    "linli.workflows.issue_follow_up.reminder_due", ReminderDue,
    "问题已解决, 请上报人评价是否满意",
)
ACTIVITY_STEP_CHANGED = event_type(
    "linli.workflows.activity.step_changed", StepChanged,
    "邻里中心活动的流程进入新阶段 (报名中、前一天提醒、报名截止、签到、请评分、结束或取消)",
)
COMMITTEE_STEP_CHANGED = event_type(
    "linli.workflows.committee.step_changed", StepChanged,
    "业主委员会成立 (或换届) 流程进入新阶段 (申请、筹备组、候选人公示、业主大会通知、选举、"
    "推选主任、备案、任期中、换届)",
)
COMMITTEE_REMINDER_DUE = event_type(
    "linli.workflows.committee.reminder_due", ReminderDue,
    "业主委员会备案逾期, 或任期将满须换届: 提醒业主委员会与街道办事处",
)

# msgspec reads a Struct's annotations the first time it converts one; read them here, when
# this module is imported outside the workflow sandbox, so a workflow building an event
# (workflows/steps.py checks it) never has to resolve them inside the sandbox.
for _payload in [v for v in list(globals().values())
                 if isinstance(v, type) and issubclass(v, msgspec.Struct)]:
    msgspec.json.Decoder(_payload)
