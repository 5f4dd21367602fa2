"""Request and response types of the channels beyond the inbox (msgspec Structs)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from linli.formats import exact
from services.notify.models import KindName, WebhookUrl

PersonChannelName = Literal["email", "sms"]
EmailAddress = Annotated[str, msgspec.Meta(
    max_length=254, pattern=exact(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[A-Za-z0-9-]{2,}"),
    examples=["chair@example.cn"])]
Mobile = Annotated[str, msgspec.Meta(pattern=exact(r"\+?[0-9]{5,20}"), examples=["13800138000"])]
Organisation = Literal["party_branch", "community", "owners_committee", "property",
                       "street_office", "compound"]
Platform = Literal["wecom", "dingtalk", "feishu"]
BotSecret = Annotated[str, msgspec.Meta(min_length=8, max_length=200, pattern=exact(r"[\x21-\x7e]+"))]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=r"\S")]


class ChannelIn(msgspec.Struct, forbid_unknown_fields=True):
    """An email address or a mobile number, and the kinds it takes (empty: every kind for
    email; the critical kinds only, e.g. vote deadlines, for SMS)."""

    address: Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
    kinds: list[KindName] = msgspec.field(default_factory=list)
    # a daily digest at this hour (China time) instead of each notification at once
    digest_hour: Annotated[int, msgspec.Meta(ge=0, le=23)] | None = None


class PersonChannel(msgspec.Struct):
    channel: str
    address: str
    kinds: list[str]
    digest_hour: int | None
    updated_at: dt.datetime


class BotIn(msgspec.Struct, forbid_unknown_fields=True):
    """An IM group bot: which organisation's group ('compound': the notice board), the
    platform, its webhook URL and signing secret (never shown again), kinds and @-phones."""

    organisation: Organisation
    platform: Platform
    name: Name
    url: WebhookUrl
    secret: BotSecret | None = None
    kinds: list[KindName] = msgspec.field(default_factory=list)
    mention_mobiles: list[Mobile] = msgspec.field(default_factory=list)


class Bot(msgspec.Struct):
    """A configured bot; its URL carries a credential, so only the host is shown."""

    id: uuid.UUID
    compound_id: uuid.UUID
    organisation: str
    platform: str
    name: str
    host: str
    signed: bool
    kinds: list[str]
    mention_mobiles: list[str]
    created_by: str
    created_at: dt.datetime


class EmailSenderIn(msgspec.Struct, forbid_unknown_fields=True):
    from_name: Name
    from_address: EmailAddress
    reply_to: EmailAddress | None = None


class EmailSender(msgspec.Struct):
    compound_id: uuid.UUID
    from_name: str
    from_address: str
    reply_to: str | None
    updated_by: str | None
    updated_at: dt.datetime | None


class Unsubscribed(msgspec.Struct):
    channel: str | None
    unsubscribed: bool


# ---------------------------------------------------------------- messages other apps send

Recipient = Literal["party_branch", "community", "owners_committee", "property", "street_office",
                    "partner_unit", "stationed_unit", "volunteer_team", "resident_reps"]
Page = Literal["issue", "proposal", "vote", "meeting", "bills", "booking", "activity", "library"]
Value = Annotated[str, msgspec.Meta(max_length=2_000)]
EntityId = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=exact(r"[A-Za-z0-9_:-]+"))]


class BroadcastIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A message to the whole compound (its notice board, the webhooks following it and the
    compound's group bots): a kind, the values of its template's placeholders, and the portal
    page it is about (`about`, `about_id`), which every channel links to."""

    kind: KindName = "announcement"
    values: dict[str, Value]
    about: Page | None = None
    about_id: EntityId | None = None


class MessageToIn(BroadcastIn, forbid_unknown_fields=True, kw_only=True):
    """A message to people by id, or to the current members of organisations of the 1+3+N
    roster (one of the two): the inbox and each person's own channels, quiet hours and
    digests, as for an event; an organisation's group bots too."""

    kind: KindName = "app_message"
    person_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=500)] = msgspec.field(
        default_factory=list)
    organisations: Annotated[list[Recipient], msgspec.Meta(max_length=9)] = msgspec.field(
        default_factory=list)


class MessageSent(msgspec.Struct):
    """What a message became: its id, how many people's inboxes got it (or the board post),
    and how many deliveries on other channels were queued (the delivery log has each)."""

    id: uuid.UUID
    audience: str  # person, role or compound
    people: int
    notice_id: uuid.UUID | None
    deliveries: int
