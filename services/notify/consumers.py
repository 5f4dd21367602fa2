"""Events notify reacts to, each turned into notifications; the routing table at the bottom.

Every handler runs inside the consumer's transaction with the inbox row; one that cannot
resolve its audience (directory down, issue not yet seen) raises, and the kernel redelivers
the event with a delay, dead-lettering it after a bounded number of attempts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from linli.bus import Subscription
from linli.db import Connection
from linli.directory import PendingDirectory
from linli.events import CloudEvent, EventType
from linli.values import now_utc
from services.issues import events as issues
from services.meetings import events as meetings
from services.notify import fanout, store
from services.notify import labels as L
from services.notify.centre import CENTRE_ROUTING
from services.notify.committee import COMMITTEE_ROUTING
from services.notify.fanout import Message
from services.notify.metrics import SKIPPED
from workflows import events as workflows

# An event older than this is recorded as seen but tells nobody: a fresh durable replays the
# stream's history, and residents should not get last month's reminders.
MAX_EVENT_AGE = dt.timedelta(days=7)
COUNCIL = ["party_branch", "owners_committee"]
UNNAMED = "未命名议案"  # an event written before events carried the proposal's title
Apply = Callable[[Connection, CloudEvent, PendingDirectory], Awaitable[None]]


class IssueNotSeen(LookupError):
    """The issue's `reported` event has not arrived yet; redelivery will find it."""


async def _issue(conn: Connection, issue_id: Any) -> store.Row:
    row = await store.get_issue(conn, issue_id=issue_id)
    if row is None:
        raise IssueNotSeen(f"issue {issue_id} not seen reported yet")
    return row


async def issue_reported(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    """Remember who reported the issue (null when anonymous) for the events that follow."""
    data = issues.ISSUE_REPORTED.parse(event)
    await store.remember_issue(conn, issue_id=data.issue_id, compound_id=data.compound_id,
                               reporter_id=data.reporter_id, title=data.title)


async def issue_status_changed(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = issues.ISSUE_STATUS_CHANGED.parse(event)
    if data.to_status == "resolved":
        return  # the `resolved` event tells the reporter, once
    row = await _issue(conn, data.issue_id)
    msg = Message("issue_status_changed", {
        "title": row["title"], "from_status": L.label(L.ISSUE_STATUS, data.from_status),
        "to_status": L.label(L.ISSUE_STATUS, data.to_status), "note": data.note or ""},
        str(data.issue_id))
    await fanout.to_people(conn, event, msg, [row["reporter_id"]])


async def issue_resolved(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = issues.ISSUE_RESOLVED.parse(event)
    row = await _issue(conn, data.issue_id)
    msg = Message("issue_resolved", {"title": row["title"], "note": data.note or "无"},
                  str(data.issue_id))
    await fanout.to_people(conn, event, msg,
                           [data.reporter_id or row["reporter_id"], *data.cosigner_ids])


async def issue_with_council(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = issues.ISSUE_WITH_COUNCIL.parse(event)
    row = await _issue(conn, data.issue_id)
    msg = Message("issue_with_council", {"title": row["title"], "proposal": data.proposal_title},
                  str(data.issue_id))
    await fanout.to_people(conn, event, msg, [data.reporter_id or row["reporter_id"]])


async def issue_returned(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    """The responsible party has the issue again; the reporter hears why."""
    data = issues.ISSUE_RETURNED.parse(event)
    row = await _issue(conn, data.issue_id)
    msg = Message("issue_returned", {
        "title": row["title"], "proposal": data.proposal_title,
        "outcome": "已放弃" if data.outcome == "abandoned" else "已取消",
        "responsible": L.label(L.PARTIES, data.responsible),
        "deadline": L.when(data.resolve_by)}, str(data.issue_id))
    # the roster call comes first: when the directory is down nothing has been written yet
    await fanout.to_roles(conn, event, msg, [data.responsible], directory)
    await fanout.to_people(conn, event, msg, [data.reporter_id or row["reporter_id"]])


async def issue_escalated(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = issues.ISSUE_ESCALATED.parse(event)
    row = await _issue(conn, data.issue_id)
    msg = Message("issue_escalated", {
        "title": data.title, "reason": L.label(L.ESCALATION_REASONS, data.reason),
        "cosign_count": str(data.cosign_count)}, str(data.issue_id))
    # the roster call comes first: when the directory is down nothing has been written yet
    await fanout.to_roles(conn, event, msg, COUNCIL, directory)
    await fanout.to_people(conn, event, msg, [row["reporter_id"]])


async def issue_overdue(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = issues.ISSUE_OVERDUE.parse(event)
    row = await _issue(conn, data.issue_id)
    msg = Message("issue_overdue", {
        "title": row["title"], "status": L.label(L.ISSUE_STATUS, data.status),
        "responsible": L.label(L.PARTIES, data.responsible),
        "deadline": L.when(data.resolve_by or data.respond_by)}, str(data.issue_id))
    # the roster call comes first: when the directory is down nothing has been written yet
    await fanout.to_roles(conn, event, msg, COUNCIL, directory)
    await fanout.to_people(conn, event, msg, [row["reporter_id"]])


async def issue_commented(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = issues.ISSUE_COMMENTED.parse(event)
    row = await _issue(conn, data.issue_id)
    if row["reporter_id"] is None or row["reporter_id"] == data.author_id:
        return  # nobody to tell, or the reporter wrote it
    msg = Message("issue_commented", {"title": row["title"],
                                      "who": "工作人员" if data.official else "其他居民"},
                  str(data.issue_id))
    await fanout.to_people(conn, event, msg, [row["reporter_id"]])


async def proposal_reminder(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    """Named people when the workflow lists them, an organisation, else the notice board."""
    data = workflows.PROPOSAL_REMINDER_DUE.parse(event)
    msg = Message("proposal_reminder", {"reminder": L.label(L.REMINDERS, data.kind),
                                        "deadline": L.when(data.deadline),
                                        "proposal": data.title or UNNAMED}, data.entity_id)
    if data.person_ids:
        await fanout.to_people(conn, event, msg, data.person_ids)
    elif data.audience in L.ORGANISATION_ROLES:
        await fanout.to_roles(conn, event, msg, [data.audience], directory)
    else:
        await fanout.to_notice_board(conn, event, msg)


async def follow_up_reminder(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = workflows.FOLLOW_UP_REMINDER_DUE.parse(event)
    row = await _issue(conn, data.entity_id)
    people = data.person_ids or [row["reporter_id"]]
    msg = Message("issue_follow_up", {"deadline": L.when(data.deadline), "title": row["title"]},
                  data.entity_id)
    await fanout.to_people(conn, event, msg, people)


async def proposal_step_changed(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = workflows.PROPOSAL_STEP_CHANGED.parse(event)
    if not data.previous:
        return  # the run's first step (a draft) is no news: the consultation notice comes next
    msg = Message("proposal_step_changed", {
        "step": L.label(L.STEPS, data.step), "previous": L.label(L.STEPS, data.previous),
        "outcome": L.label(L.OUTCOMES, data.outcome) or "已结束", "round": str(data.round),
        "note": data.note, "proposal": data.title or UNNAMED}, data.entity_id)
    await fanout.to_notice_board(conn, event, msg)


async def proposal_blocked(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    """The convener's organisation is asked to retry or abandon the blocked run."""
    data = workflows.PROPOSAL_BLOCKED.parse(event)
    msg = Message("proposal_blocked", {"proposal": data.title or UNNAMED, "reason": data.reason,
                                       "step": L.label(L.STEPS, data.step)}, data.entity_id)
    await fanout.to_roles(conn, event, msg, [data.audience or "party_branch"], directory)


async def milestone_overdue(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = workflows.PROPOSAL_MILESTONE_OVERDUE.parse(event)
    msg = Message("proposal_milestone_overdue", {
        "milestone": data.milestone, "due_at": L.when(data.due_at), "owner": data.owner or "未指定",
        "percent": str(data.percent), "proposal": data.title or UNNAMED}, data.proposal_id)
    await fanout.to_roles(conn, event, msg, data.escalate_to or COUNCIL, directory)


async def meeting_convened(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = meetings.MEETING_CONVENED.parse(event)
    msg = Message("meeting_convened", {
        "title": data.title, "kind": L.label(L.MEETING_KINDS, data.kind),
        "starts_at": L.when(data.starts_at), "place": data.place or "通知的地点",
        "invitees": "、".join(data.invitee_names) or "相关各方"}, str(data.meeting_id))
    if data.invitee_ids:
        await fanout.to_people(conn, event, msg, [str(p) for p in data.invitee_ids])
    else:
        await fanout.to_notice_board(conn, event, msg)


async def vote_opened(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = meetings.VOTE_OPENED.parse(event)
    await fanout.to_notice_board(conn, event, Message("vote_opened", {
        "rule": L.label(L.VOTE_RULES, data.rule), "closes_at": L.when(data.closes_at),
        "roll_entries": str(data.roll_entries), "proposal": data.title or UNNAMED},
        str(data.proposal_id), about_id=str(data.vote_id)))  # the page is the vote's


async def vote_closed(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = meetings.VOTE_CLOSED.parse(event)
    await fanout.to_notice_board(conn, event, Message("vote_closed", {
        "rule": L.label(L.VOTE_RULES, data.rule), "outcome": L.label(L.OUTCOMES, data.outcome),
        "proposal": data.title or UNNAMED}, str(data.proposal_id), about_id=str(data.vote_id)))


async def minutes_published(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = meetings.MINUTES_PUBLISHED.parse(event)
    await fanout.to_notice_board(conn, event, Message("minutes_published", {
        "title": data.title, "notice_until": L.when(data.notice_until)}, str(data.meeting_id)))


async def bills_issued(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = meetings.BILLS_ISSUED.parse(event)
    if data.total_fen == 0:
        return  # nothing to pay: no bill is announced
    await fanout.to_notice_board(conn, event, Message("bills_issued", {
        "period": data.period, "total": L.yuan(data.total_fen), "units": str(data.units),
        "name": data.name or "公共费用"},
        str(data.cost_id)))


async def consultation_opened(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = meetings.CONSULTATION_OPENED.parse(event)
    await fanout.to_notice_board(conn, event, Message("consultation_opened", {
        "version": str(data.version), "closes_at": L.when(data.closes_at),
        "proposal": data.title or UNNAMED}, str(data.proposal_id)))


def _bind(apply: Apply, directory: PendingDirectory) -> Callable[[Connection, CloudEvent], Awaitable[None]]:
    async def handler(conn: Connection, event: CloudEvent) -> None:
        sent = dt.datetime.fromisoformat(event.time.replace("Z", "+00:00"))
        # an old report is still remembered (it tells nobody): a fresh event about the issue
        # must find its reporter, not be redelivered until it is dead-lettered
        if apply is not issue_reported and now_utc() - sent > MAX_EVENT_AGE:
            SKIPPED.labels("stale").inc()
            return
        await apply(conn, event, directory)

    return handler


ROUTING: list[tuple[str, EventType[Any], Apply]] = [
    ("issue-reported", issues.ISSUE_REPORTED, issue_reported),
    ("issue-status-changed", issues.ISSUE_STATUS_CHANGED, issue_status_changed),
    ("issue-resolved", issues.ISSUE_RESOLVED, issue_resolved),
    ("issue-escalated", issues.ISSUE_ESCALATED, issue_escalated),
    ("issue-overdue", issues.ISSUE_OVERDUE, issue_overdue),
    ("issue-commented", issues.ISSUE_COMMENTED, issue_commented),
    ("issue-with-council", issues.ISSUE_WITH_COUNCIL, issue_with_council),
    ("issue-returned", issues.ISSUE_RETURNED, issue_returned),
    ("proposal-reminder", workflows.PROPOSAL_REMINDER_DUE, proposal_reminder),
    ("proposal-step", workflows.PROPOSAL_STEP_CHANGED, proposal_step_changed),
    ("proposal-milestone", workflows.PROPOSAL_MILESTONE_OVERDUE, milestone_overdue),
    ("proposal-blocked", workflows.PROPOSAL_BLOCKED, proposal_blocked),
    ("follow-up-reminder", workflows.FOLLOW_UP_REMINDER_DUE, follow_up_reminder),
    ("meeting-convened", meetings.MEETING_CONVENED, meeting_convened),
    ("vote-opened", meetings.VOTE_OPENED, vote_opened),
    ("vote-closed", meetings.VOTE_CLOSED, vote_closed),
    ("minutes-published", meetings.MINUTES_PUBLISHED, minutes_published),
    ("bills-issued", meetings.BILLS_ISSUED, bills_issued),
    ("consultation-opened", meetings.CONSULTATION_OPENED, consultation_opened),
    *CENTRE_ROUTING,
    *COMMITTEE_ROUTING,
]


def subscriptions(directory: PendingDirectory, *, prefix: str = "notify") -> list[Subscription]:
    """The durable consumers (`<prefix>-<what>`); replicas share them and split the work."""
    return [Subscription(f"{prefix}-{name}", kind, _bind(apply, directory))
            for name, kind, apply in ROUTING]
