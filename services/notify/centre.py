"""The neighbourhood centre's events in Chinese for the people concerned: a booking decided or
cancelled (the booker), a plan published (the notice board), a place freed from the waiting list
(the person promoted), an activity's reminder the day before and its cancellation (everyone
signed up), the feedback request (those who came), a held book ready and a loan due or overdue
(the reader)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from linli.db import Connection
from linli.directory import PendingDirectory
from linli.events import CloudEvent, EventType
from services.centre import events as centre
from services.notify import fanout
from services.notify import labels as L
from services.notify.fanout import Message

Apply = Callable[[Connection, CloudEvent, PendingDirectory], Awaitable[None]]
BOOKING_STATUS = {"confirmed": "已确认", "declined": "未通过审核", "cancelled": "已取消"}
AUDIENCES = {"elderly": "老年人", "families": "亲子家庭", "young_workers": "青年上班族",
             "everyone": "全体居民"}


async def booking_decided(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = centre.BOOKING_CONFIRMED.parse(event)
    if data.series_id is not None and event.type == centre.BOOKING_CONFIRMED.name:
        return  # a series is confirmed as a whole by its answer, not once per occurrence
    msg = Message("centre_booking", {
        "venue": data.venue_name, "starts_at": L.when(data.starts_at),
        "status": BOOKING_STATUS.get(data.status, data.status),
        "reason": f"原因：{data.reason}" if data.reason else ""}, str(data.booking_id))
    await fanout.to_people(conn, event, msg, [data.booker_id])


async def plan_published(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = centre.PLAN_PUBLISHED.parse(event)
    await fanout.to_notice_board(conn, event, Message("centre_plan_published", {
        "title": data.title, "period": data.period,
        "audience": AUDIENCES.get(data.audience, data.audience),
        "activities": str(data.activities)}, str(data.plan_id)))


async def waitlist_promoted(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = centre.WAITLIST_PROMOTED.parse(event)
    confirm = (f"活动临近，请在 {L.when(data.confirm_by)} 前确认参加，逾期名额将顺延给下一位。"
               if data.confirm_by else "如不能参加请及时取消。")
    msg = Message("centre_waitlist_promoted", {"title": data.title,
                                               "starts_at": L.when(data.starts_at),
                                               "confirm": confirm}, str(data.activity_id))
    await fanout.to_people(conn, event, msg, [data.person_id])


async def activity_cancelled(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = centre.ACTIVITY_CANCELLED.parse(event)
    msg = Message("centre_activity_cancelled", {
        "title": data.title, "starts_at": L.when(data.starts_at), "reason": data.reason or "未说明"},
        str(data.activity_id))
    await fanout.to_people(conn, event, msg, data.people)


async def activity_reminder(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = centre.ACTIVITY_REMINDER.parse(event)
    msg = Message("centre_activity_reminder", {"title": data.title,
                                               "starts_at": L.when(data.starts_at)},
                  str(data.activity_id))
    await fanout.to_people(conn, event, msg, data.people)


async def feedback_requested(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = centre.ACTIVITY_FEEDBACK_REQUESTED.parse(event)
    msg = Message("centre_feedback_requested", {"title": data.title}, str(data.activity_id))
    await fanout.to_people(conn, event, msg, data.people)


async def hold_ready(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = centre.HOLD_READY.parse(event)
    await fanout.to_people(conn, event, Message("centre_hold_ready", {"title": data.title},
                                                str(data.book_id)), [data.person_id])


async def loan_due(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = centre.LOAN_DUE.parse(event)
    await fanout.to_people(conn, event, Message("centre_loan_due", {
        "title": data.title, "due_on": data.due_on.isoformat()}, str(data.loan_id)),
        [data.person_id])


async def loan_overdue(conn: Connection, event: CloudEvent, directory: PendingDirectory) -> None:
    data = centre.LOAN_OVERDUE.parse(event)
    await fanout.to_people(conn, event, Message("centre_loan_overdue", {
        "title": data.title, "due_on": data.due_on.isoformat()}, str(data.loan_id)),
        [data.person_id])


CENTRE_ROUTING: list[tuple[str, EventType[Any], Apply]] = [
    ("centre-booking-confirmed", centre.BOOKING_CONFIRMED, booking_decided),
    ("centre-booking-declined", centre.BOOKING_DECLINED, booking_decided),
    ("centre-booking-cancelled", centre.BOOKING_CANCELLED, booking_decided),
    ("centre-plan-published", centre.PLAN_PUBLISHED, plan_published),
    ("centre-waitlist-promoted", centre.WAITLIST_PROMOTED, waitlist_promoted),
    ("centre-activity-cancelled", centre.ACTIVITY_CANCELLED, activity_cancelled),
    ("centre-activity-reminder", centre.ACTIVITY_REMINDER, activity_reminder),
    ("centre-feedback-requested", centre.ACTIVITY_FEEDBACK_REQUESTED, feedback_requested),
    ("centre-hold-ready", centre.HOLD_READY, hold_ready),
    ("centre-loan-due", centre.LOAN_DUE, loan_due),
    ("centre-loan-overdue", centre.LOAN_OVERDUE, loan_overdue),
]
