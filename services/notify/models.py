"""Request, response and row types of the notify service (msgspec Structs)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from linli.formats import exact
from linli.pagination import PageQuery
from services.notify.templates import KINDS

# the kinds there are, stated in the schema (a made-up kind is refused by the schema itself)
KindName = Annotated[str, msgspec.Meta(min_length=1, max_length=50,
                                       pattern=exact("|".join(sorted(KINDS))))]
WebhookUrl = Annotated[str, msgspec.Meta(
    max_length=500, pattern=exact(r"https?://[^\s/?#]+[^\s]*"), examples=["https://im.example.cn/hook"])]
Secret = Annotated[str, msgspec.Meta(min_length=16, max_length=200)]
ClockTime = Annotated[str, msgspec.Meta(pattern=exact(r"([01][0-9]|2[0-3]):[0-5][0-9]"), examples=["22:00"])]
TemplateText = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"\S")]
DeliveryStatus = Literal["pending", "sent", "failed"]
DeliveryChannel = Literal["webhook", "email", "sms", "wecom", "dingtalk", "feishu"]


class InboxQuery(PageQuery, kw_only=True):
    """?unread=true shows only what the person has not read."""

    unread: bool = False


class DeliveryQuery(PageQuery, kw_only=True):
    status: DeliveryStatus | None = None
    channel: DeliveryChannel | None = None


class Notification(msgspec.Struct):
    """One item of a person's in-app inbox."""

    id: uuid.UUID
    kind: str
    kind_label: str
    title: str
    body: str
    compound_id: uuid.UUID | None
    subject: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class Notice(msgspec.Struct):
    """A post on a compound's notice board (公告栏), for everyone living there."""

    id: uuid.UUID
    compound_id: uuid.UUID
    kind: str
    kind_label: str
    title: str
    body: str
    subject: str
    created_at: dt.datetime


class ReadAll(msgspec.Struct):
    marked: int


class PreferencesIn(msgspec.Struct, forbid_unknown_fields=True):
    """Channels beyond the in-app inbox (always on). `kinds` empty means every kind."""

    webhook_url: WebhookUrl | None = None
    webhook_secret: Secret | None = None
    kinds: list[KindName] = msgspec.field(default_factory=list)
    quiet_start: ClockTime | None = None
    quiet_end: ClockTime | None = None


class Preferences(msgspec.Struct):
    person_id: str
    in_app: bool
    webhook_url: str | None
    webhook_signed: bool
    kinds: list[str]
    quiet_start: str | None
    quiet_end: str | None
    notice_boards: list[uuid.UUID]  # compounds whose notice-board posts the webhook also gets
    updated_at: dt.datetime | None
    # while a secret rotation's grace lasts, the old secret signs too (until then)
    webhook_rotating_until: dt.datetime | None = None


WhsecSecret = Annotated[str, msgspec.Meta(max_length=200, pattern=exact(r"whsec_[A-Za-z0-9+/=]+"),
                                          examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])]


class RotateIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new signing secret for one's webhook: given (whsec_), or made here when left out; the
    old one keeps signing for `grace_hours` beside it (0: it stops at once)."""

    secret: WhsecSecret | None = None
    grace_hours: Annotated[int, msgspec.Meta(ge=0, le=168)] = 24


class RotatedSecret(msgspec.Struct):
    """The new secret, shown this once, and until when the old one still signs."""

    secret: str
    previous_valid_until: dt.datetime | None


# how a kind reaches a channel: not at all, at once at any hour, at once except held through
# the person's quiet hours, or in the channel's daily digest
Reach = Literal["off", "immediate", "outside_quiet_hours", "digest"]


class KindChannels(msgspec.Struct):
    kind: str
    label: str
    critical: bool  # goes through quiet hours and skips digests (vote deadlines)
    in_app: Reach
    webhook: Reach
    email: Reach
    sms: Reach


class NotificationMatrix(msgspec.Struct):
    """Which kinds of message reach which of the person's channels, with their preferences."""

    person_id: str
    quiet_start: str | None
    quiet_end: str | None
    digest_hours: dict[str, int]  # channel → hour (China time) of its daily digest
    kinds: list[KindChannels]


class TemplateIn(msgspec.Struct, forbid_unknown_fields=True):
    title: TemplateText
    body: TemplateText


class Template(msgspec.Struct):
    """The template a compound uses for a kind: its own text or the built-in default."""

    kind: str
    label: str
    placeholders: list[str]
    title: str
    body: str
    custom: bool
    updated_by: str | None = None
    updated_at: dt.datetime | None = None


class Delivery(msgspec.Struct):
    """One outbound delivery and how it went; `target` only in the person's own log."""

    id: uuid.UUID
    notification_id: uuid.UUID | None
    notice_id: uuid.UUID | None
    person_id: str | None  # None for a group bot's delivery (bot_id)
    compound_id: uuid.UUID | None
    kind: str
    channel: str  # webhook, email, sms, wecom, dingtalk, feishu
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    target: str | None = None
    bot_id: uuid.UUID | None = None
