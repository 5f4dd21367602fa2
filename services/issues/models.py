"""Request, response and row types of issues (msgspec Structs)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, ClassVar, Literal

import msgspec

from linli import schema_rules as sr
from linli.formats import exact
from linli.pagination import PageQuery

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"\S")]
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=r"\S")]
Note = Annotated[str, msgspec.Meta(max_length=500)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"\S")]
Code = Annotated[str, msgspec.Meta(pattern=exact(r"[a-z][a-z0-9_]{1,39}"), examples=["lift"])]
Url = Annotated[str, msgspec.Meta(max_length=500, pattern=exact(r"https?://\S+"))]
Hours = Annotated[int, msgspec.Meta(ge=1, le=24 * 365)]
Party = Literal["property", "owners_committee", "community", "street_office", "party_branch"]
Area = Literal["roof", "lift", "pump_room", "green_space", "parking", "corridor", "gate", "road",
               "facilities", "other"]
Status = Literal["submitted", "accepted", "in_progress", "resolved", "rejected", "duplicate"]
Template = Literal["received", "scheduled", "parts_ordered", "fixed", "not_ours"]


class AttributeValue(msgspec.Struct):
    key: str
    name: str


class Attribute(msgspec.Struct, forbid_unknown_fields=True):
    """An extra question a category asks (Open311 service definition attribute)."""

    code: Code
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    datatype: Literal["string", "number", "text", "singlevaluelist"] = "string"
    required: bool = False
    values: list[AttributeValue] = []


class CategoryIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Title
    responsible: Party
    respond_hours: Hours
    resolve_hours: Hours
    description: Note = ""
    attributes: list[Attribute] = []
    active: bool = True


class Category(msgspec.Struct):
    code: str
    name: str
    description: str
    responsible: str
    responsible_label: str
    respond_hours: int
    resolve_hours: int
    attributes: list[Attribute]
    active: bool


class SettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    cosign_threshold: Annotated[int, msgspec.Meta(ge=1, le=100_000)]
    reopen_window_hours: Hours


class CompoundSettings(msgspec.Struct):
    compound_id: uuid.UUID
    cosign_threshold: int
    reopen_window_hours: int


class OnBehalf(msgspec.Struct, forbid_unknown_fields=True):
    """Staff report for a resident who phoned or came to the office."""

    name: Title
    person_id: uuid.UUID | None = None


class IssueIn(msgspec.Struct, forbid_unknown_fields=True):
    """A report: of one flat (unit_id) or of a common area (area), exactly one of them."""

    __schema_rules__: ClassVar[list[dict[str, Any]]] = [sr.exactly_one("unit_id", "area")]
    category: Code
    title: Title
    description: Body
    unit_id: uuid.UUID | None = None
    area: Area | None = None
    location_note: Note = ""
    photos: Annotated[list[Url], msgspec.Meta(max_length=9)] = []
    anonymous: bool = False
    on_behalf_of: OnBehalf | None = None
    attributes: dict[str, Annotated[str, msgspec.Meta(max_length=200)]] = {}


class Issue(msgspec.Struct):
    """An issue. reporter_id is null in the public view of an anonymous report."""

    id: uuid.UUID
    compound_id: uuid.UUID
    category: str
    title: str
    description: str
    unit_id: uuid.UUID | None
    area: str | None
    location_note: str
    photos: list[str]
    attributes: dict[str, str]
    anonymous: bool
    reporter_id: str | None
    on_behalf: bool
    channel: str
    responsible: str
    status: str
    status_label: str
    status_note: str
    duplicate_of: uuid.UUID | None
    cosign_count: int
    created_at: dt.datetime
    updated_at: dt.datetime
    respond_by: dt.datetime
    resolve_by: dt.datetime
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    escalated_at: dt.datetime | None
    escalation_reason: str | None
    overdue: bool
    # the proposal this issue led to; with_council while it runs (targets wait meanwhile)
    proposal_id: uuid.UUID | None = None
    proposal_title: str = ""
    with_council: bool = False
    council_label: str = ""  # "议事中" while with the council


class IssueQuery(PageQuery, kw_only=True):
    status: Status | None = None
    category: str | None = None
    mine: bool = False  # only the issues the caller reported (a resident's "my issues")
    responsible: Party | None = None  # the desk's queue of one party
    overdue: bool | None = None  # open and past a target (true) or not (false): overdue first
    q: Annotated[str, msgspec.Meta(max_length=100)] | None = None  # words in title or description


class SimilarQuery(msgspec.Struct, kw_only=True):
    category: str
    title: str
    description: str = ""


class SimilarIssue(msgspec.Struct):
    id: uuid.UUID
    title: str
    status: str
    cosign_count: int
    score: float


class Cosign(msgspec.Struct):
    issue_id: uuid.UUID
    cosign_count: int
    escalated: bool


class CommentIn(msgspec.Struct, forbid_unknown_fields=True):
    body: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    template: Template | None = None


class Comment(msgspec.Struct):
    id: uuid.UUID
    issue_id: uuid.UUID
    author_id: str | None  # null: the anonymous reporter, to those who may not know them
    body: str
    official: bool
    template: str | None
    created_at: dt.datetime


class _Step(msgspec.Struct, forbid_unknown_fields=True, tag_field="to"):
    note: Note = ""
    template: Template | None = None


class ToAccepted(_Step, tag="accepted"):
    pass


class ToInProgress(_Step, tag="in_progress"):
    pass


class ToResolved(_Step, tag="resolved"):
    pass


class ToRejected(_Step, tag="rejected", kw_only=True):
    reason: Reason


class ToDuplicate(_Step, tag="duplicate", kw_only=True):
    duplicate_of: uuid.UUID


Transition = ToAccepted | ToInProgress | ToResolved | ToRejected | ToDuplicate


class ReopenIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class ReassignIn(msgspec.Struct, forbid_unknown_fields=True):
    to: Party
    note: Note = ""


class EscalateIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class FeedbackIn(msgspec.Struct, forbid_unknown_fields=True):
    score: Annotated[int, msgspec.Meta(ge=1, le=5)]
    fixed: bool
    comment: Note = ""


class Feedback(msgspec.Struct):
    issue_id: uuid.UUID
    round: int
    score: int
    fixed: bool
    reopened: bool


class HistoryEntry(msgspec.Struct):
    action: str
    from_status: str | None
    to_status: str | None
    actor: str | None
    note: str
    created_at: dt.datetime


class CountBy(msgspec.Struct):
    key: str
    count: int


class Stats(msgspec.Struct):
    compound_id: uuid.UUID
    total: int
    by_status: list[CountBy]
    by_category: list[CountBy]
    median_first_response_hours: float | None
    median_resolution_hours: float | None
    overdue: int
    escalated: int
    satisfaction_average: float | None
    top_cosigned_open: list[SimilarIssue]
