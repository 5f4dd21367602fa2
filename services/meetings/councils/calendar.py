"""Meetings as iCalendar feeds (RFC 5545, text/calendar) for calendar apps: the compound's
(`/meetings.ics`, with the member's token) and a person's own, fetched by a secret address
because calendar apps cannot send a bearer header: made, listed and revoked by the person,
only a hash of the secret kept, a revoked address answering 410 Gone. A personal feed follows
the directory: a compound the person belonged to when it was made is listed only while they
still do (asked again at each fetch), so one who moved out stops getting its meetings."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import secrets
import uuid
from typing import Any

from linli import problems
from linli.auth import Principal
from linli.db import Pool, transaction
from linli.directory import Directory
from linli.pagination import Page, PageQuery, page_of, time_cursor, time_keyset
from linli.problems import Problem
from linli.values import now_utc
from services.meetings.councils import store
from services.meetings.councils.models import (
    KIND_LABELS,
    CalendarFeed,
    CalendarFeedCreated,
    CalendarFeedIn,
)

FEEDS_PATH = "/v1/calendar-feeds/"
MAX_LIVE_FEEDS = 10  # per person: one per device is plenty; a runaway client is stopped
RSVP_LABELS = {"yes": "参加", "no": "不参加", "maybe": "待定", None: "尚未回复"}


async def feed(pool: Pool, *, compound_id: uuid.UUID) -> str:
    """Every meeting of the compound, cancelled ones marked so."""
    async with pool.acquire() as conn:
        rows = await store.list_meetings(conn, compound_id=compound_id)
    return icalendar(list(rows))


def _ics_text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def _ics_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> list[str]:
    """RFC 5545 §3.1: lines longer than 75 octets continue on the next line after a space."""
    parts, current = [], ""
    for char in line:
        if len((current + char).encode()) > 75:
            parts.append(current)
            current = " "
        current += char
    return [*parts, current]


def _description(m: Any) -> str:
    text = "召集: " + m["convener_name"]
    if m.get("invited"):  # a personal feed: the person's own invitation and answer
        text += f"\n您受邀参加 (您的回复: {RSVP_LABELS.get(m['rsvp'], '尚未回复')})"
    return text


def icalendar(meetings: list[Any], name: str = "邻里议事会议") -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Linli//meetings//ZH", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{_ics_text(name)}", "X-WR-TIMEZONE:Asia/Shanghai",
             "REFRESH-INTERVAL;VALUE=DURATION:PT1H", "X-PUBLISHED-TTL:PT1H"]
    stamp = _ics_time(now_utc())
    for m in meetings:
        lines += ["BEGIN:VEVENT", f"UID:{m['id']}@linli", f"DTSTAMP:{stamp}",
                  f"DTSTART:{_ics_time(m['starts_at'])}", f"DTEND:{_ics_time(m['ends_at'])}",
                  f"SUMMARY:{_ics_text(KIND_LABELS[m['kind']] + ': ' + m['title'])}",
                  f"LOCATION:{_ics_text(m['place'] or m['online_url'] or '')}",
                  f"DESCRIPTION:{_ics_text(_description(m))}",
                  "STATUS:" + ("CANCELLED" if m["status"] == "cancelled" else "CONFIRMED")]
        if m["online_url"]:
            lines.append(f"URL:{m['online_url']}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(part + "\r\n" for line in lines for part in _fold(line))



# ---------------------------------------------------------------- personal feeds


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _feed(row: Any) -> CalendarFeed:
    return CalendarFeed(id=row["id"], label=row["label"], created_at=row["created_at"],
                        revoked_at=row["revoked_at"])


def _person(who: Principal) -> str:
    if who.is_app:
        raise problems.forbidden("日历订阅地址属于个人, 应用不能创建或管理")
    return who.subject


async def create_feed(pool: Pool, directory: Directory, *, who: Principal, data: CalendarFeedIn,
                      origin: str) -> CalendarFeedCreated:
    """A new secret address for the caller's own feed; the secret is shown only here. Of the
    token's compounds, those the person belongs to now (per the directory) are recorded: the
    feed lists them only while the person still does (personal_feed)."""
    person = _person(who)
    compound_ids = sorted(uuid.UUID(c) for c in who.compounds if c != "*")
    member_ids = [c for c, here in zip(compound_ids, await _belongs(directory, person,
                                                                     compound_ids), strict=True)
                  if here]
    secret = secrets.token_urlsafe(32)
    async with transaction(pool) as conn:
        # one person's feeds are made one at a time, so the limit holds under concurrency
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"calendar-feeds:{person}")
        if await store.live_feed_count(conn, person_id=person) >= MAX_LIVE_FEEDS:
            raise problems.conflict(f"每人最多 {MAX_LIVE_FEEDS} 个有效的日历订阅地址, "
                                    "请先停用不再使用的", "too-many-feeds")
        row = await store.insert_feed(conn, id=uuid.uuid4(), person_id=person,
                                      compound_ids=compound_ids, member_compound_ids=member_ids,
                                      label=data.label, token_hash=_hash(secret))
    path = f"{FEEDS_PATH}{secret}.ics"
    return CalendarFeedCreated(id=row["id"], label=row["label"], created_at=row["created_at"],
                               path=path, url=origin + path)


async def _belongs(directory: Directory, person: str,
                   compound_ids: list[uuid.UUID]) -> list[bool]:
    """Whether the person belongs to each compound now (an owner, a resident or serving in
    one of its organisations), one members lookup per compound, asked at once. A compound the
    directory does not know has no members; its outage is our 503 with Retry-After."""
    try:
        uuid.UUID(person)
    except ValueError:
        return [False] * len(compound_ids)  # not a person the directory could know

    async def one(compound_id: uuid.UUID) -> bool:
        try:
            return not await directory.outsiders(compound_id, [person])
        except problems.Problem as exc:
            if exc.status != 404:
                raise
            return False

    return list(await asyncio.gather(*(one(c) for c in compound_ids)))


async def list_feeds(pool: Pool, *, who: Principal, query: PageQuery) -> Page[CalendarFeed]:
    """A page of the caller's feeds, revoked ones too, oldest first."""
    async with pool.acquire() as conn:
        rows = await store.person_feeds(conn, person_id=_person(who),
                                        after=time_keyset(query.cursor), limit=query.limit + 1)
    return page_of([_feed(r) for r in rows], query.limit, time_cursor)


async def revoke_feed(pool: Pool, *, who: Principal, feed_id: uuid.UUID) -> CalendarFeed:
    """Revoke one of the caller's feeds for good (another person's is not found)."""
    async with transaction(pool) as conn:
        row = await store.revoke_feed(conn, id=feed_id, person_id=_person(who))
    if row is None:
        raise problems.not_found("日历订阅")
    return _feed(row)


async def personal_feed(pool: Pool, directory: Directory, *, secret: str) -> str:
    """The feed behind a secret address: the person's compounds' meetings and invitations.

    A compound where the person was a member when the feed was made is listed only while the
    directory says they still are (asked at each fetch, one lookup per such compound; calendar
    apps fetch about hourly and keep the answer 5 minutes, so no cache here). When the
    directory cannot answer, the feed is a 503 with Retry-After rather than a feed without
    those compounds: a calendar app keeps the events it has and tries again later, whereas a
    feed missing them would delete them from the person's calendar until the next fetch."""
    async with pool.acquire() as conn:
        row = await store.feed_by_hash(conn, token_hash=_hash(secret))
    if row is None:
        raise problems.not_found("日历订阅")
    if row["revoked_at"] is not None:
        raise Problem(410, "feed-revoked", "订阅地址已停用",
                      "该日历订阅地址已被停用, 请在邻里重新获取订阅地址")
    compound_ids = await _still_listed(directory, row)
    async with pool.acquire() as conn:
        meetings = await store.person_meetings(conn, compound_ids=compound_ids,
                                               person_id=row["person_id"])
    return icalendar([dict(m) for m in meetings], name="我的邻里会议")


async def _still_listed(directory: Directory, row: Any) -> list[uuid.UUID]:
    """The feed's compounds less those the person was a member of when it was made and no
    longer is. A feed made before members were recorded (NULL) lists all, as it did
    (migration 0018)."""
    recorded: list[uuid.UUID] | None = row["member_compound_ids"]
    if recorded is None:
        return list(row["compound_ids"])
    here = await _belongs(directory, row["person_id"], list(recorded))
    left = {c for c, still in zip(recorded, here, strict=True) if not still}
    return [c for c in row["compound_ids"] if c not in left]
