"""Request, response and row types of volunteers (msgspec Structs)."""

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
SkillCode = Annotated[str, msgspec.Meta(pattern=exact(r"[a-z][a-z0-9_]{1,39}"),
                                        examples=["appliance_repair"])]
Minutes = Annotated[int, msgspec.Meta(ge=1, le=1440)]
OrderStatus = Literal["ordered", "accepted", "in_service", "completed", "rated", "cancelled"]

# A time a person gives must carry its zone (2026-06-01T09:00:00+08:00): a naive one is 422.
Moment = Annotated[dt.datetime, msgspec.Meta(tz=True)]


class Skill(msgspec.Struct):
    code: str
    name: str
    active: bool


class SkillIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    active: bool = True


class VolunteerIn(msgspec.Struct, forbid_unknown_fields=True):
    """Register yourself; staff may register another person of the compound (person_id)."""

    skills: Annotated[list[SkillCode], msgspec.Meta(min_length=1, max_length=10)]
    availability: Annotated[str, msgspec.Meta(max_length=200)] = ""
    team_id: uuid.UUID | None = None
    party_member: bool = False
    person_id: uuid.UUID | None = None


class Volunteer(msgspec.Struct):
    id: uuid.UUID
    compound_id: uuid.UUID
    person_id: str
    name: str
    skills: list[str]
    availability: str
    team_id: uuid.UUID | None
    party_member: bool
    status: str
    verified_by: str | None
    verified_at: dt.datetime | None
    created_at: dt.datetime


class VolunteerPatch(msgspec.Struct, forbid_unknown_fields=True):
    """What a volunteer (or staff) may change; fields left out stay as they are."""

    skills: Annotated[list[SkillCode], msgspec.Meta(min_length=1, max_length=10)] | None = None
    availability: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    team_id: uuid.UUID | None = None
    party_member: bool | None = None


class VolunteerQuery(PageQuery, kw_only=True):
    skill: str | None = None
    status: Literal["pending", "verified", "suspended"] | None = None


class MenuItemIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    skill: SkillCode
    duration_minutes: Annotated[int, msgspec.Meta(ge=5, le=1440)]
    capacity_per_week: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    description: Note = ""


class MenuItem(msgspec.Struct):
    id: uuid.UUID
    compound_id: uuid.UUID
    title: str
    skill: str
    description: str
    duration_minutes: int
    capacity_per_week: int
    volunteer_id: uuid.UUID | None
    published_by: str
    status: str
    created_at: dt.datetime


class MenuQuery(PageQuery, kw_only=True):
    skill: str | None = None
    status: Literal["published", "withdrawn"] = "published"


class OnBehalf(msgspec.Struct, forbid_unknown_fields=True):
    """Staff order for a resident who phoned or came to the office."""

    person_id: uuid.UUID
    name: Name


class OrderIn(msgspec.Struct, forbid_unknown_fields=True):
    item_id: uuid.UUID
    unit_id: uuid.UUID
    window_start: Moment
    window_end: Moment
    note: Note = ""
    on_behalf_of: OnBehalf | None = None


class Order(msgspec.Struct):
    id: uuid.UUID
    compound_id: uuid.UUID
    item_id: uuid.UUID
    skill: str
    resident_id: str
    on_behalf: bool
    contact_name: str
    unit_id: uuid.UUID
    window_start: dt.datetime
    window_end: dt.datetime
    note: str
    status: str
    status_label: str
    volunteer_id: uuid.UUID | None
    accepted_at: dt.datetime | None
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    minutes: int | None
    service_notes: str
    rating: int | None
    rating_comment: str
    cancel_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class OrderQuery(PageQuery, kw_only=True):
    status: OrderStatus | None = None
    skill: str | None = None


class AssignIn(msgspec.Struct, forbid_unknown_fields=True):
    volunteer_id: uuid.UUID


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class CompleteIn(msgspec.Struct, forbid_unknown_fields=True):
    minutes: Minutes
    notes: Note = ""


class RateIn(msgspec.Struct, forbid_unknown_fields=True):
    score: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Note = ""


class HistoryEntry(msgspec.Struct):
    action: str
    from_status: str | None
    to_status: str
    actor: str
    note: str
    created_at: dt.datetime


class LedgerEntry(msgspec.Struct):
    id: int
    volunteer_id: uuid.UUID
    volunteer_name: str
    source: str
    source_id: uuid.UUID
    skill: str
    title: str
    person_id: str
    minutes: int
    hours: str
    rating: int | None
    served_at: dt.datetime


class LedgerQuery(PageQuery, kw_only=True):
    volunteer_id: uuid.UUID | None = None
    skill: str | None = None


class SkillStats(msgspec.Struct):
    skill: str
    name: str
    services: int
    minutes: int
    hours: str


class VolunteerTotals(msgspec.Struct):
    volunteer_id: uuid.UUID
    name: str
    services: int
    minutes: int
    hours: str
    average_rating: float | None


class LedgerStats(msgspec.Struct):
    """Per-compound figures of the 服务台账: services, hours, ratings, by skill and volunteer."""

    compound_id: uuid.UUID
    services: int
    minutes: int
    hours: str
    average_rating: float | None
    rated: int
    volunteers: int
    by_skill: list[SkillStats]
    by_volunteer: list[VolunteerTotals]
    orders_by_status: dict[str, int]
    missed_care_visits: int


class CarePlanIn(msgspec.Struct, forbid_unknown_fields=True):
    person_id: uuid.UUID
    person_name: Name
    unit_id: uuid.UUID
    volunteer_id: uuid.UUID
    first_due_at: Moment
    interval_days: Annotated[int, msgspec.Meta(ge=1, le=90)] = 7
    skill: SkillCode = "elder_visit"
    note: Note = ""


class CareVisit(msgspec.Struct):
    id: uuid.UUID
    plan_id: uuid.UUID
    seq: int
    due_at: dt.datetime
    status: str
    volunteer_id: uuid.UUID | None
    recorded_at: dt.datetime | None
    minutes: int | None
    notes: str
    missed_at: dt.datetime | None
    acknowledged_by: str | None


class CarePlan(msgspec.Struct):
    id: uuid.UUID
    compound_id: uuid.UUID
    person_id: str
    person_name: str
    unit_id: uuid.UUID
    volunteer_id: uuid.UUID
    skill: str
    interval_days: int
    first_due_at: dt.datetime
    note: str
    status: str
    created_at: dt.datetime
    next_visit: CareVisit | None = None


class VisitIn(msgspec.Struct, forbid_unknown_fields=True):
    minutes: Minutes
    notes: Note = ""


class PlanQuery(PageQuery, kw_only=True):
    volunteer_id: uuid.UUID | None = None
