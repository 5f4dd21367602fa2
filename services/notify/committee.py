"""The owners' committee's founding and term in Chinese: every step on the notice board (the
group, the candidate list and the meeting are published to all owners), and the reminders (a
late registration, the term ending) to the organisations named."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from linli.db import Connection
from linli.directory import PendingDirectory
from linli.events import CloudEvent, EventType
from services.notify import fanout
from services.notify import labels as L
from services.notify.fanout import Message
from workflows import events as workflows

Apply = Callable[[Connection, CloudEvent, PendingDirectory], Awaitable[None]]
STEPS: Final = {
    "requested": "申请成立", "preparatory_group": "组建筹备组", "group_publicity": "筹备组名单公示",
    "rules_and_candidates": "议事规则、管理规约与候选人提名", "candidate_publicity": "候选人名单公示",
    "meeting_notice": "业主大会通知", "election": "业主大会选举", "election_failed": "选举未选满",
    "adoption_failed": "议事规则或管理规约未获通过", "adoption_vote": "议事规则或管理规约重新表决",
    "officers": "推选主任、副主任", "registration": "备案", "in_office": "任期中",
    "member_change": "委员变更",
    "re_election": "换届", "not_qualified": "暂不具备成立条件",
    "property_management_committee": "成立物业管理委员会", "cancelled": "已取消",
}
REMINDERS: Final = {
    "committee_registration_overdue": "业主委员会选举结果已超过期限未备案",
    "committee_term_ending": "业主委员会任期将满，请启动换届",
}


async def step_changed(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = workflows.COMMITTEE_STEP_CHANGED.parse(event)
    await fanout.to_notice_board(conn, event, Message("committee_step_changed", {
        "step": L.label(STEPS, data.step), "previous": L.label(STEPS, data.previous) or "无",
        "note": data.note}, data.entity_id))


async def reminder(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = workflows.COMMITTEE_REMINDER_DUE.parse(event)
    msg = Message("committee_reminder", {"reminder": L.label(REMINDERS, data.kind),
                                         "deadline": L.when(data.deadline)}, data.entity_id)
    await fanout.to_roles(conn, event, msg, [data.audience], directory)


COMMITTEE_ROUTING: list[tuple[str, EventType[Any], Apply]] = [
    ("committee-step", workflows.COMMITTEE_STEP_CHANGED, step_changed),
    ("committee-reminder", workflows.COMMITTEE_REMINDER_DUE, reminder),
]
