"""Events the centre publishes: the contract other services (notify) import.

subject = the entity id (venue, booking, series, plan, activity, sign-up, group, loan, hold);
compound_id is set on every event. Each carries the people who should hear of it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import msgspec

from linli.events import event_type


class VenueChanged(msgspec.Struct):
    venue_id: uuid.UUID
    compound_id: uuid.UUID
    name: str
    kind: str
    by: str


class BookingEvent(msgspec.Struct):
    """A booking's move: who booked, which venue, when, the status it reached and why."""

    booking_id: uuid.UUID
    compound_id: uuid.UUID
    venue_id: uuid.UUID
    venue_name: str
    booker_id: str
    starts_at: datetime
    ends_at: datetime
    status: str
    by: str
    series_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    reason: str | None = None


class SeriesCreated(msgspec.Struct):
    series_id: uuid.UUID
    compound_id: uuid.UUID
    venue_id: uuid.UUID
    booker_id: str
    booked: int
    clashes: int
    by: str


class PlanPublished(msgspec.Struct):
    plan_id: uuid.UUID
    compound_id: uuid.UUID
    audience: str
    period: str
    title: str
    activities: int
    by: str


class ActivityEvent(msgspec.Struct):
    """An activity created or cancelled; `people` are those signed up (cancellation tells them)."""

    activity_id: uuid.UUID
    compound_id: uuid.UUID
    title: str
    audience: str
    starts_at: datetime
    capacity: int
    by: str
    people: list[str] = []
    reason: str | None = None


class ActivityClosed(msgspec.Struct):
    activity_id: uuid.UUID
    compound_id: uuid.UUID
    title: str
    audience: str
    capacity: int
    confirmed: int
    attended: int
    feedback_average: float | None
    by: str


class SignupEvent(msgspec.Struct):
    signup_id: uuid.UUID
    activity_id: uuid.UUID
    compound_id: uuid.UUID
    person_id: str
    title: str
    starts_at: datetime
    status: str
    position: int | None = None
    confirm_by: datetime | None = None  # promoted after the cut-off: confirm by then
    reason: str | None = None


class GroupEvent(msgspec.Struct):
    group_id: uuid.UUID
    compound_id: uuid.UUID
    name: str
    kind: str
    by: str
    person_id: str | None = None
    status: str | None = None


class LoanEvent(msgspec.Struct):
    loan_id: uuid.UUID
    book_id: uuid.UUID
    compound_id: uuid.UUID
    person_id: str
    title: str
    due_on: date
    status: str
    by: str


class HoldEvent(msgspec.Struct):
    hold_id: uuid.UUID
    book_id: uuid.UUID
    compound_id: uuid.UUID
    person_id: str
    title: str
    status: str


VENUE_CREATED = event_type("linli.centre.venue.created", VenueChanged,
                           "邻里中心新增了一个场地（活动室、球场、图书角或户外场地）")
BOOKING_REQUESTED = event_type("linli.centre.booking.requested", BookingEvent,
                               "场地预约已提交，等待物业或社区审核（时段已为其保留）")
BOOKING_CONFIRMED = event_type("linli.centre.booking.confirmed", BookingEvent,
                               "场地预约成功（无须审核的场地立即确认，或审核通过）")
BOOKING_DECLINED = event_type("linli.centre.booking.declined", BookingEvent,
                              "场地预约未通过审核（附原因），时段已释放")
BOOKING_CANCELLED = event_type("linli.centre.booking.cancelled", BookingEvent,
                               "场地预约（或系列预约中的一次）被取消，时段已释放")
BOOKING_MOVED = event_type("linli.centre.booking.moved", BookingEvent,
                           "系列预约中的一次改到了新的时间")
BOOKING_NO_SHOW = event_type("linli.centre.booking.no_show", BookingEvent,
                             "工作人员登记预约人未到场")
SERIES_CREATED = event_type("linli.centre.series.created", SeriesCreated,
                            "建立了定期预约（如每周二、四晨练），附成功与冲突的次数")
PLAN_PUBLISHED = event_type("linli.centre.plan.published", PlanPublished,
                            "某一居民群体的月度或季度活动计划已发布，应张贴到小区公告栏")
ACTIVITY_CREATED = event_type("linli.centre.activity.created", ActivityEvent,
                              "发布了一项活动，开放报名")
ACTIVITY_CANCELLED = event_type("linli.centre.activity.cancelled", ActivityEvent,
                                "活动取消（附原因），应通知所有报名的人")
ACTIVITY_REMINDER = event_type("linli.centre.activity.reminder", ActivityEvent,
                               "活动前一天提醒报名成功的人（people 列出他们）")
ACTIVITY_FEEDBACK_REQUESTED = event_type("linli.centre.activity.feedback_requested",
                                         ActivityEvent,
                                         "活动结束，请签到参加的人评分（people 列出他们）")
ACTIVITY_CLOSED = event_type("linli.centre.activity.closed", ActivityClosed,
                             "活动结束归档，附报名、到场人数和平均评分")
ACTIVITY_SIGNED_UP = event_type("linli.centre.activity.signed_up", SignupEvent,
                                "居民报名了活动（报名成功，或名额已满进入候补，附候补位次）")
SIGNUP_CANCELLED = event_type("linli.centre.signup.cancelled", SignupEvent,
                              "活动报名取消（本人取消，或递补后未在期限内确认，附原因）")
WAITLIST_PROMOTED = event_type("linli.centre.waitlist.promoted", SignupEvent,
                               "有人取消报名，候补第一位自动转为报名成功，应告诉本人"
                               "（临近开始时递补的须在 confirm_by 前确认）")
SIGNUP_CONFIRMED = event_type("linli.centre.signup.confirmed", SignupEvent,
                              "临近开始时递补的人确认会来参加")
SIGNUP_CHECKED_IN = event_type("linli.centre.signup.checked_in", SignupEvent,
                               "报名者在活动现场签到")
GROUP_PROPOSED = event_type("linli.centre.group.proposed", GroupEvent,
                            "居民发起成立兴趣小组（待社区审核）")
GROUP_APPROVED = event_type("linli.centre.group.approved", GroupEvent,
                            "兴趣小组经社区审核成立")
GROUP_JOINED = event_type("linli.centre.group.joined", GroupEvent,
                          "有人加入兴趣小组（或申请加入，待组长同意）")
GROUP_LEFT = event_type("linli.centre.group.left", GroupEvent, "有人退出兴趣小组")
LOAN_CREATED = event_type("linli.centre.loan.created", LoanEvent, "图书角借出一本书（附应还日期）")
LOAN_RENEWED = event_type("linli.centre.loan.renewed", LoanEvent, "借书续借一次，应还日期延后")
LOAN_RETURNED = event_type("linli.centre.loan.returned", LoanEvent, "借出的书已归还")
LOAN_LOST = event_type("linli.centre.loan.lost", LoanEvent, "借出的书登记为遗失，馆藏减少一册")
LOAN_DUE = event_type("linli.centre.loan.due", LoanEvent,
                      "借书快到应还日期（提前两天，每笔借阅只发一次，续借后再发），应提醒借阅人")
LOAN_OVERDUE = event_type("linli.centre.loan.overdue", LoanEvent,
                          "借书已过应还日期（每笔借阅只发一次），应提醒借阅人")
HOLD_PLACED = event_type("linli.centre.hold.placed", HoldEvent, "居民预约了一本已借完的书")
HOLD_READY = event_type("linli.centre.hold.ready", HoldEvent,
                        "预约的书已归还并为预约人保留，应告诉本人来取")

BOOKING_EVENTS = {
    "pending": BOOKING_REQUESTED, "confirmed": BOOKING_CONFIRMED, "declined": BOOKING_DECLINED,
    "cancelled": BOOKING_CANCELLED, "no_show": BOOKING_NO_SHOW,
}
