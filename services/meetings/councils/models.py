"""Request and response types of council meetings (msgspec Structs)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, ClassVar, Literal

import msgspec

from linli import schema_rules as sr
from linli.formats import exact

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4_000, pattern=r"\S")]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Url = Annotated[str, msgspec.Meta(pattern=exact(r"https?://\S+"), max_length=1_000)]
Kind = Literal["party_masses_council", "residents_council", "owners_general_meeting", "hearing"]
KIND_LABELS: dict[str, str] = {
    "party_masses_council": "党群议事会", "residents_council": "居民议事会",
    "owners_general_meeting": "业主大会", "hearing": "听证会",
}
OrgKind = Literal[
    "party_branch", "community", "owners_committee", "property", "street_office",
    "partner_unit", "stationed_unit", "volunteer_team", "resident_reps",
]
Outcome = Literal["consensus", "vote", "deferred", "referred"]


class MeetingIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Kind
    title: Title
    starts_at: dt.datetime
    ends_at: dt.datetime
    # normally the party branch: its id, or its kind when the compound has one of that kind
    # (how workflows convene, knowing the convener's kind but not the directory's ids)
    convener_org_id: uuid.UUID | None = None
    convener_kind: OrgKind | None = None
    place: Short | None = None
    online_url: Url | None = None
    # a venue of the neighbourhood centre: convening books it, cancelling releases it
    venue_id: uuid.UUID | None = None
    organisation_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=50)] = []
    # people of the compound (owners, residents, anyone serving today in its organisations)
    person_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=2_000)] = []


class Invitee(msgspec.Struct):
    person_id: uuid.UUID
    name: str
    organisation_id: uuid.UUID | None
    rsvp: str | None
    present: bool


class InvitedOrganisation(msgspec.Struct):
    organisation_id: uuid.UUID
    kind: str
    name: str


class AgendaItemIn(msgspec.Struct, forbid_unknown_fields=True):
    """A free item, an item for a proposal, or an already proposed item (item_id) scheduled."""

    __schema_rules__: ClassVar[list[dict[str, Any]]] = [
        sr.at_least_one("title", "proposal_id", "item_id")]

    title: Title | None = None
    proposal_id: uuid.UUID | None = None
    item_id: uuid.UUID | None = None
    presenter: Short = ""
    minutes: Annotated[int, msgspec.Meta(ge=1, le=480)] = 15


class ItemOpinion(msgspec.Struct):
    id: uuid.UUID
    speaker_id: uuid.UUID
    speaker_name: str
    organisation_id: uuid.UUID | None
    stance: str
    text: str
    recorded_at: dt.datetime


class FollowUp(msgspec.Struct):
    id: uuid.UUID
    title: str
    organisation_id: uuid.UUID
    due_on: dt.date


class AgendaItem(msgspec.Struct):
    id: uuid.UUID
    compound_id: uuid.UUID
    meeting_id: uuid.UUID | None
    position: int | None
    title: str
    source: str
    issue_id: uuid.UUID | None
    proposal_id: uuid.UUID | None
    presenter: str
    minutes: int
    outcome: str | None
    outcome_note: str
    vote_id: uuid.UUID | None
    opinions: list[ItemOpinion] = []
    actions: list[FollowUp] = []


class Meeting(msgspec.Struct):
    id: uuid.UUID
    compound_id: uuid.UUID
    kind: str
    kind_label: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: str | None
    online_url: str | None
    convener_org_id: uuid.UUID
    convener_name: str
    status: str
    organisations: list[InvitedOrganisation]
    invitees: list[Invitee]
    agenda: list[AgendaItem]
    cancelled_at: dt.datetime | None = None
    cancel_reason: str | None = None
    venue_booking_id: uuid.UUID | None = None


class AgendaOrderIn(msgspec.Struct, forbid_unknown_fields=True):
    item_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=200)]


class MeetingCancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"\S")]


class RsvpIn(msgspec.Struct, forbid_unknown_fields=True):
    answer: Literal["yes", "no", "maybe"]


class CheckInIn(msgspec.Struct, forbid_unknown_fields=True):
    person_id: uuid.UUID | None = None  # absent: the caller checks in; else the secretary


class Quorum(msgspec.Struct):
    meeting_id: uuid.UUID
    kind: str
    rule: str
    invited: int
    present: int
    needed: int
    met: bool
    organisations_missing: list[str]
    may_decide: bool


class ItemOpinionIn(msgspec.Struct, forbid_unknown_fields=True):
    speaker_id: uuid.UUID
    stance: Literal["support", "oppose", "suggest"]
    text: Text
    speaker_name: Short = ""
    organisation_id: uuid.UUID | None = None


class OutcomeIn(msgspec.Struct, forbid_unknown_fields=True):
    """What became of an item; a vote's id exactly when it was put to the vote."""

    __schema_rules__: ClassVar[list[dict[str, Any]]] = [sr.only_when("vote_id", "outcome", "vote")]
    outcome: Outcome
    note: Annotated[str, msgspec.Meta(max_length=4_000)] = ""
    vote_id: uuid.UUID | None = None


class FollowUpIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    organisation_id: uuid.UUID
    due_on: dt.date


class MinutesEdit(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=100_000, pattern=r"\S")]


class PublishIn(msgspec.Struct, forbid_unknown_fields=True):
    notice_days: Annotated[int, msgspec.Meta(ge=1, le=90)] = 7


class Minutes(msgspec.Struct):
    meeting_id: uuid.UUID
    status: str
    text: str
    approved_by: str | None
    approved_at: dt.datetime | None
    published_at: dt.datetime | None
    notice_until: dt.datetime | None


class CalendarFeedIn(msgspec.Struct, forbid_unknown_fields=True):
    """A personal calendar feed; the label tells one's feeds apart (e.g. 手机日历)."""

    label: Annotated[str, msgspec.Meta(max_length=100)] = ""


class CalendarFeed(msgspec.Struct):
    id: uuid.UUID
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class CalendarFeedCreated(msgspec.Struct):
    """The feed's address, shown once: only a hash of its secret is kept."""

    id: uuid.UUID
    label: str
    created_at: dt.datetime
    path: str  # /v1/calendar-feeds/<secret>.ics on meetings, to subscribe to without a token
    url: str  # the same under the address this request reached
