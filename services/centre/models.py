"""Request, response and row types of the centre (msgspec Structs)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from linli.formats import exact
from linli.pagination import PageQuery

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"\S")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=r"\S")]
Note = Annotated[str, msgspec.Meta(max_length=1000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"\S")]
Code = Annotated[str, msgspec.Meta(pattern=exact(r"[a-z][a-z0-9_]{1,39}"), examples=["elderly"])]
HHMM = Annotated[str, msgspec.Meta(pattern=exact(r"([01][0-9]|2[0-3]):[0-5][0-9]"), examples=["07:00"])]
# A time a person gives must carry its zone (2026-06-01T09:00:00+08:00): a naive one is 422.
Moment = Annotated[dt.datetime, msgspec.Meta(tz=True)]
VenueKind = Literal["room", "court", "library", "outdoor"]
Booker = Literal["resident", "group", "organisation"]


class OpeningIn(msgspec.Struct, forbid_unknown_fields=True):
    weekday: Annotated[int, msgspec.Meta(ge=1, le=7, description="1 = 周一 … 7 = 周日")]
    opens: HHMM
    closes: HHMM


class VenueIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    kind: VenueKind
    capacity: Annotated[int, msgspec.Meta(ge=1, le=10000)]
    opening_hours: Annotated[list[OpeningIn], msgspec.Meta(min_length=1, max_length=50)]
    max_minutes: Annotated[int, msgspec.Meta(ge=15, le=1440)] = 120
    advance_days: Annotated[int, msgspec.Meta(ge=1, le=366)] = 14
    buffer_minutes: Annotated[int, msgspec.Meta(ge=0, le=240)] = 0
    bookers: Annotated[list[Booker], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["resident", "group", "organisation"])
    requires_approval: bool = False
    facilities: Annotated[list[Name], msgspec.Meta(max_length=30)] = msgspec.field(
        default_factory=list)
    rules: Note = ""


class Venue(msgspec.Struct):
    id: uuid.UUID
    compound_id: uuid.UUID
    name: str
    kind: str
    capacity: int
    opening_hours: list[OpeningIn]
    hours_text: str
    max_minutes: int
    advance_days: int
    buffer_minutes: int
    bookers: list[str]
    requires_approval: bool
    facilities: list[str]
    rules: str
    active: bool
    created_at: dt.datetime


class ClosureIn(msgspec.Struct, forbid_unknown_fields=True):
    starts_at: Moment
    ends_at: Moment
    reason: Reason


class Closure(msgspec.Struct):
    id: uuid.UUID
    venue_id: uuid.UUID
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str


class BookingIn(msgspec.Struct, forbid_unknown_fields=True):
    """Book for yourself, or (staff) for another person; a group books through its leader."""

    venue_id: uuid.UUID
    starts_at: Moment
    ends_at: Moment
    purpose: Title
    group_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None


class Booking(msgspec.Struct):
    """A booking; another resident's reads only as taken (booker, purpose, group, series,
    decision and reason are null for them)."""

    id: uuid.UUID
    compound_id: uuid.UUID
    venue_id: uuid.UUID
    series_id: uuid.UUID | None
    booker_id: str | None
    group_id: uuid.UUID | None
    purpose: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str
    decided_by: str | None
    reason: str | None
    created_at: dt.datetime


class BookingQuery(PageQuery, kw_only=True):
    venue_id: uuid.UUID | None = None
    status: Literal["pending", "confirmed", "declined", "cancelled", "no_show"] | None = None
    mine: bool = False


class MoveIn(msgspec.Struct, forbid_unknown_fields=True):
    starts_at: Moment
    ends_at: Moment


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class SeriesIn(msgspec.Struct, forbid_unknown_fields=True):
    """A weekly series, e.g. tai chi every Tuesday and Thursday 07:00–08:00 until June."""

    venue_id: uuid.UUID
    purpose: Title
    weekdays: Annotated[list[Annotated[int, msgspec.Meta(ge=1, le=7)]],
                        msgspec.Meta(min_length=1, max_length=7)]
    start_time: HHMM
    end_time: HHMM
    first_day: dt.date
    last_day: dt.date
    exceptions: Annotated[list[dt.date], msgspec.Meta(max_length=100)] = msgspec.field(
        default_factory=list)
    group_id: uuid.UUID | None = None


class Clash(msgspec.Struct):
    starts_at: dt.datetime
    ends_at: dt.datetime
    detail: str
    booking_id: uuid.UUID | None = None


class Series(msgspec.Struct):
    id: uuid.UUID
    venue_id: uuid.UUID
    booked: list[Booking]
    clashes: list[Clash]


# ---------------------------------------------------------------- activities


class PlanIn(msgspec.Struct, forbid_unknown_fields=True):
    audience: Code
    period: Annotated[str, msgspec.Meta(pattern=exact(r"20[0-9]{2}-(0[1-9]|1[0-2]|Q[1-4])"),
                                        examples=["2026-06", "2026-Q3"])]
    title: Title
    summary: Note = ""


class Plan(msgspec.Struct):
    id: uuid.UUID
    compound_id: uuid.UUID
    audience: str
    audience_label: str
    period: str
    title: str
    summary: str
    status: str
    published_at: dt.datetime | None
    created_at: dt.datetime
    activities: list[Activity] = []


class PlanQuery(PageQuery, kw_only=True):
    audience: str | None = None
    period: str | None = None


class ActivityIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    organiser: Title
    audience: Code
    starts_at: Moment
    ends_at: Moment
    capacity: Annotated[int, msgspec.Meta(ge=1, le=10000)]
    description: Note = ""
    plan_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    venue_id: uuid.UUID | None = None
    signup_opens_at: Moment | None = None
    signup_closes_at: Moment | None = None


class Activity(msgspec.Struct):
    id: uuid.UUID
    compound_id: uuid.UUID
    plan_id: uuid.UUID | None
    group_id: uuid.UUID | None
    title: str
    description: str
    organiser: str
    audience: str
    venue_id: uuid.UUID | None
    booking_id: uuid.UUID | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    signup_opens_at: dt.datetime
    signup_closes_at: dt.datetime
    status: str
    created_at: dt.datetime
    confirmed: int = 0
    waiting: int = 0
    reminded_at: dt.datetime | None = None
    feedback_requested_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None


class ActivityQuery(PageQuery, kw_only=True):
    audience: str | None = None
    plan_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None


class SignupIn(msgspec.Struct, forbid_unknown_fields=True):
    """Sign yourself up, or (staff) someone who came to the desk."""

    person_id: uuid.UUID | None = None
    name: Annotated[str, msgspec.Meta(max_length=50)] = ""


class Signup(msgspec.Struct):
    id: uuid.UUID
    activity_id: uuid.UUID
    person_id: str
    name: str
    status: str
    position: int | None
    code: str
    promoted_at: dt.datetime | None
    checked_in_at: dt.datetime | None
    feedback: int | None
    created_at: dt.datetime
    confirm_by: dt.datetime | None = None


class CheckInIn(msgspec.Struct, forbid_unknown_fields=True):
    """At the door: the person shows their code, or staff check in a sign-up by id."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=20)] | None = None
    signup_id: uuid.UUID | None = None


class FeedbackIn(msgspec.Struct, forbid_unknown_fields=True):
    score: Annotated[int, msgspec.Meta(ge=1, le=5)]


# ---------------------------------------------------------------- interest groups


class GroupIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    kind: Code
    description: Note = ""
    requires_approval: bool = False


class Group(msgspec.Struct):
    id: uuid.UUID
    compound_id: uuid.UUID
    name: str
    kind: str
    description: str
    status: str
    requires_approval: bool
    proposed_by: str
    created_at: dt.datetime
    members: int = 0
    leaders: list[str] = []
    next_activities: list[Activity] = []


class Member(msgspec.Struct):
    person_id: str
    name: str
    role: str
    status: str
    joined_at: dt.datetime


class JoinIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=50)] = ""


# ---------------------------------------------------------------- library


class BookIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    copies: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1
    author: Annotated[str, msgspec.Meta(max_length=100)] = ""
    isbn: Annotated[str, msgspec.Meta(pattern=exact(r"[0-9]{9}[0-9X]|97[89][0-9]{10}"))] | None = None
    donated_by: Annotated[str, msgspec.Meta(max_length=100)] = ""


class Book(msgspec.Struct):
    id: uuid.UUID
    compound_id: uuid.UUID
    title: str
    author: str
    isbn: str | None
    copies: int
    donated_by: str
    created_at: dt.datetime
    on_loan: int = 0
    available: int = 0
    holds: int = 0


class BookQuery(PageQuery, kw_only=True):
    q: str | None = None


class LoanIn(msgspec.Struct, forbid_unknown_fields=True):
    """Borrow for yourself, or (staff at the desk) for a reader."""

    book_id: uuid.UUID
    person_id: uuid.UUID | None = None


class Loan(msgspec.Struct):
    id: uuid.UUID
    book_id: uuid.UUID
    person_id: str
    due_on: dt.date
    renewed: bool
    status: str
    returned_at: dt.datetime | None
    created_at: dt.datetime


class HoldIn(msgspec.Struct, forbid_unknown_fields=True):
    book_id: uuid.UUID
    person_id: uuid.UUID | None = None


class Hold(msgspec.Struct):
    id: uuid.UUID
    book_id: uuid.UUID
    person_id: str
    status: str
    position: int | None
    ready_at: dt.datetime | None
    created_at: dt.datetime


class MyLibrary(msgspec.Struct):
    loans: list[Loan]
    holds: list[Hold]


# ---------------------------------------------------------------- statistics


class StatsQuery(msgspec.Struct, kw_only=True):
    weeks: Annotated[int, msgspec.Meta(ge=1, le=26)] = 4
    last_week: Annotated[dt.date | None, msgspec.Meta(
        description="任意一天，所在的周为统计的最后一周；默认本周")] = None


class VenueWeek(msgspec.Struct):
    venue_id: uuid.UUID
    venue: str
    week: dt.date
    hours_booked: float
    hours_open: float
    use_percent: str


class Participation(msgspec.Struct):
    key: str
    label: str
    activities: int
    signed_up: int
    attended: int
    members: int | None = None


class LoanMonth(msgspec.Struct):
    month: str
    loans: int
    lost: int


class CentreStats(msgspec.Struct):
    since: dt.datetime
    venue_use: list[VenueWeek]
    by_audience: list[Participation]
    by_group: list[Participation]
    loans_by_month: list[LoanMonth]
