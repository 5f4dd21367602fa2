"""Use cases of venues and bookings: one transaction each, events via the outbox.

Activities are in activities.py, interest groups in groups.py, the library in library.py.
Overlaps are refused by PostgreSQL itself (bookings_no_overlap); the code only turns the
refusal into a 409 naming the booking it collided with.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import msgspec

from linli import problems
from linli.auth import ALL_COMPOUNDS, Principal
from linli.bus import emit
from linli.db import Connection, Pool, transaction
from linli.directory import Directory
from linli.pagination import Page, page_of, time_cursor, time_keyset, whole
from linli.values import now_utc
from services.centre import events, group_store, metrics, rules, store
from services.centre.models import (
    Booking,
    BookingIn,
    BookingQuery,
    Closure,
    ClosureIn,
    Venue,
    VenueIn,
)

MANAGE_SCOPE = "centre:manage"


def is_staff(who: Principal) -> bool:
    """The parties running the centre (and apps with centre:manage)."""
    return who.acts_as_staff(MANAGE_SCOPE, rules.STAFF)


def acting_for(who: Principal, person_id: uuid.UUID | None) -> str:
    """Whom the request is for: yourself, or anyone when staff act at the desk."""
    if person_id is not None and str(person_id) != who.person_id:
        if not is_staff(who):
            raise problems.forbidden("只能为自己办理；代他人办理须由社区、物业或业委会工作人员")
        return str(person_id)
    if not who.person_id:
        raise problems.validation("请给出办理人 person_id", field="person_id")
    return who.person_id


def vouches_for_people(who: Principal) -> bool:
    """An app acting in every compound with centre:manage: the platform's own services, such as
    meetings booking a room for the person it authenticated as convener (a street official or
    an admin, who may hold no role in the compound). An app of one compound (a property
    system's) never is: it could otherwise reach anyone through notify's messages."""
    return who.is_app and ALL_COMPOUNDS in who.compounds and MANAGE_SCOPE in who.scopes


async def named_person(directory: Directory, compound_id: uuid.UUID, who: Principal,
                       person_id: uuid.UUID | None) -> str:
    """Whom the request is for (acting_for); someone staff or an app of one compound name
    belongs to the compound, since notify tells them of the booking, sign-up, loan or hold: a
    422 naming them otherwise, before anything is written. Acting for oneself, the token is
    the check; a platform service (vouches_for_people) has checked whom it acts for."""
    person = acting_for(who, person_id)
    if person != who.person_id and not vouches_for_people(who):
        await directory.require_members(compound_id, [person], field="person_id")
    return person


def hours_of(venue: Any) -> list[rules.Opening]:
    """The venue's opening hours (stored as jsonb, read back as JSON text)."""
    return rules.parse_hours(msgspec.json.decode(venue["opening_hours"]))


def to_venue(row: Any) -> Venue:
    hours = hours_of(row)
    return msgspec.convert({**dict(row), "opening_hours": msgspec.json.decode(row["opening_hours"]),
                            "hours_text": rules.describe_hours(hours),
                            "bookers": list(row["bookers"]),
                            "facilities": list(row["facilities"])}, Venue)


def sees_whole(who: Principal, row: Any) -> bool:
    """Staff, the person booked for and whoever made the booking see it whole."""
    return is_staff(who) or who.subject in (row["booker_id"], row["booked_by"])


def to_booking(row: Any, who: Principal) -> Booking:
    """The booking as `who` may read it: another resident learns only that the venue is
    taken then, not who booked it, for what, or who decided (names, phones and flats are
    written into purposes and reasons)."""
    booking = msgspec.convert(dict(row), Booking)
    if sees_whole(who, row):
        return booking
    return msgspec.structs.replace(booking, booker_id=None, purpose=None, group_id=None,
                                   series_id=None, decided_by=None, reason=None)


async def venue_row(conn: Connection, compound_id: uuid.UUID, venue_id: uuid.UUID,
                    *, field: str | None = None) -> Any:
    """The venue of this compound: 404, or 422 on `field` when the body named it."""
    row = await store.get(conn, table="venues", id=venue_id)
    if row is None or row["compound_id"] != compound_id or not row["active"]:
        if field:
            raise problems.validation("本小区没有这个场地", field=field)
        raise problems.not_found("场地")
    return row


# ---------------------------------------------------------------- venues


async def create_venue(pool: Pool, *, compound_id: uuid.UUID, who: Principal,
                       data: VenueIn) -> Venue:
    hours = [msgspec.structs.asdict(h) for h in data.opening_hours]
    problem = rules.hours_problem(rules.parse_hours(hours))
    if problem:
        raise problems.validation(problem, field="opening_hours")
    async with transaction(pool) as conn:
        row = await store.insert(conn, table="venues", fields={
            "id": uuid.uuid4(), "compound_id": compound_id, "name": data.name,
            "kind": data.kind, "capacity": data.capacity,
            "opening_hours": msgspec.json.encode(hours).decode(),
            "max_minutes": data.max_minutes, "advance_days": data.advance_days,
            "buffer_minutes": data.buffer_minutes, "bookers": sorted(set(data.bookers)),
            "requires_approval": data.requires_approval, "facilities": data.facilities,
            "rules": data.rules, "created_by": who.subject},
            tail="ON CONFLICT (compound_id, name) DO NOTHING RETURNING *")
        if row is None:
            raise problems.conflict(f"本小区已有名为“{data.name}”的场地", "duplicate-venue")
        await emit(conn, events.VENUE_CREATED, subject=str(row["id"]),
                   compound_id=str(compound_id),
                   data=events.VenueChanged(venue_id=row["id"], compound_id=compound_id,
                                            name=data.name, kind=data.kind, by=who.subject))
    return to_venue(row)


async def list_venues(pool: Pool, *, compound_id: uuid.UUID) -> Page[Venue]:
    """The centre's rooms and courts (a handful), as one page."""
    async with pool.acquire() as conn:
        return whole([to_venue(r) for r in await store.list_venues(conn, compound_id=compound_id)])


async def get_venue(pool: Pool, *, compound_id: uuid.UUID, venue_id: uuid.UUID) -> Venue:
    async with pool.acquire() as conn:
        return to_venue(await venue_row(conn, compound_id, venue_id))


async def add_closure(pool: Pool, *, compound_id: uuid.UUID, venue_id: uuid.UUID,
                      who: Principal, data: ClosureIn) -> Closure:
    """A holiday or maintenance closure; bookings already made inside it stay for staff to
    move or cancel (they are listed by the schedule)."""
    if data.ends_at <= data.starts_at:
        raise problems.validation("闭馆结束须晚于开始", field="ends_at")
    async with transaction(pool) as conn:
        await venue_row(conn, compound_id, venue_id)
        row = await store.insert_closure(conn, id=uuid.uuid4(), venue_id=venue_id,
                                         starts_at=data.starts_at, ends_at=data.ends_at,
                                         reason=data.reason, by=who.subject)
    return msgspec.convert(dict(row), Closure)


async def list_closures(pool: Pool, *, compound_id: uuid.UUID,
                        venue_id: uuid.UUID) -> Page[Closure]:
    """The venue's coming closures (holidays, maintenance: a few), as one page."""
    async with pool.acquire() as conn:
        await venue_row(conn, compound_id, venue_id)
        rows = await store.list_closures(conn, venue_id=venue_id)
    return whole([msgspec.convert(dict(r), Closure) for r in rows])


# ---------------------------------------------------------------- bookings


async def slot_problem(conn: Connection, venue: Any, starts_at: dt.datetime,
                       ends_at: dt.datetime, *, now: dt.datetime,
                       ahead: bool = True) -> tuple[str, str] | None:
    """(field, why) when the slot breaks the venue's rules, None when it may be booked."""
    if ends_at <= starts_at:
        return "ends_at", "结束时间须晚于开始时间"
    if starts_at <= now:
        return "starts_at", "不能预约已经开始或过去的时段"
    if ahead and starts_at > now + dt.timedelta(days=venue["advance_days"]):
        return "starts_at", f"{venue['name']}最多提前 {venue['advance_days']} 天预约"
    if ends_at - starts_at > dt.timedelta(minutes=venue["max_minutes"]):
        return "ends_at", f"{venue['name']}每次最长 {venue['max_minutes']} 分钟"
    hours = hours_of(venue)
    if not rules.within_hours(hours, starts_at, ends_at):
        return "starts_at", (f"不在{venue['name']}的开放时间内"
                             f"（{rules.describe_hours(hours)}）")
    closed = await store.closure_over(conn, venue_id=venue["id"], starts_at=starts_at,
                                      ends_at=ends_at)
    if closed is not None:
        return "starts_at", f"{venue['name']}在该时段闭馆：{closed['reason']}"
    return None


def clash_text(venue: Any, other: Any, who: Principal) -> str:
    """What a clash says: staff read which booking it is (its number, to find it); the other
    booking's own booker that it is theirs; another resident only that the slot is taken."""
    start = other["starts_at"].astimezone(rules.LOCAL)
    end = other["ends_at"].astimezone(rules.LOCAL)
    when = f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
    if is_staff(who):
        return (f"{venue['name']}在该时段已有预约（{when}，“{other['purpose']}”，"
                f"预约编号 {other['id']}）")
    if sees_whole(who, other):
        return f"你已预约{venue['name']}的这个时段（{when}，“{other['purpose']}”），不必重复预约"
    return f"{venue['name']}在该时段已有预约（{when}），请换一个时段"


async def try_insert(conn: Connection, venue: Any, fields: dict[str, Any]) -> tuple[Any, Any]:
    """(booking, None), or (None, the booking it clashes with) when PostgreSQL refuses the
    overlap; the savepoint keeps the caller's transaction usable either way."""
    try:
        async with conn.transaction():
            row = await store.insert_booking(conn, fields=fields,
                                             buffer_minutes=venue["buffer_minutes"])
        return row, None
    except asyncpg.ExclusionViolationError:
        other = await store.clash(conn, venue_id=venue["id"], starts_at=fields["starts_at"],
                                  ends_at=fields["ends_at"],
                                  buffer_minutes=venue["buffer_minutes"])
        return None, other


async def booking_event(conn: Connection, row: Any, venue: Any, who: Principal,
                        reason: str | None = None, kind: Any = None) -> None:
    await emit(conn, kind or events.BOOKING_EVENTS[row["status"]], subject=str(row["id"]),
               compound_id=str(row["compound_id"]),
               data=events.BookingEvent(
                   booking_id=row["id"], compound_id=row["compound_id"],
                   venue_id=row["venue_id"], venue_name=venue["name"],
                   booker_id=row["booker_id"], starts_at=row["starts_at"],
                   ends_at=row["ends_at"], status=row["status"], by=who.subject,
                   series_id=row["series_id"], group_id=row["group_id"], reason=reason))


def booker_kind(who: Principal, group_id: uuid.UUID | None) -> str:
    if group_id is not None:
        return "group"
    return "organisation" if is_staff(who) else "resident"


async def check_booker(conn: Connection, venue: Any, who: Principal, booker: str,
                       group_id: uuid.UUID | None) -> None:
    """The venue admits this kind of booker; a group books through one of its leaders."""
    kind = booker_kind(who, group_id)
    if kind not in venue["bookers"]:
        allowed = "、".join(rules.BOOKERS[b] for b in venue["bookers"])
        raise problems.forbidden(f"{venue['name']}只接受{allowed}预约")
    if group_id is None:
        return
    group = await group_store.group_of(conn, group_id=group_id, compound_id=venue["compound_id"])
    if group is None or group["status"] != "approved":
        raise problems.validation("本小区没有这个已成立的兴趣小组", field="group_id")
    if not is_staff(who) and not await group_store.is_leader(conn, group_id=group_id,
                                                               person_id=booker):
        raise problems.forbidden("兴趣小组的预约须由组长办理")


async def book(pool: Pool, directory: Directory, *, compound_id: uuid.UUID, who: Principal,
               data: BookingIn) -> Booking:
    """Book a slot: within the rules and opening hours, outside closures, never overlapping;
    venues that ask for approval hold the slot as pending until staff decide."""
    booker = await named_person(directory, compound_id, who, data.person_id)
    if data.ends_at <= data.starts_at:
        raise problems.validation("结束时间须晚于开始时间", field="ends_at")
    async with transaction(pool) as conn:
        venue = await venue_row(conn, compound_id, data.venue_id, field="venue_id")
        await check_booker(conn, venue, who, booker, data.group_id)
        problem = await slot_problem(conn, venue, data.starts_at, data.ends_at, now=now_utc(),
                                     ahead=not is_staff(who))
        if problem:
            raise problems.validation(problem[1], field=problem[0])
        status = "pending" if venue["requires_approval"] and not is_staff(who) else "confirmed"
        row, other = await try_insert(conn, venue, {
            "id": uuid.uuid4(), "compound_id": compound_id, "venue_id": venue["id"],
            "booker_id": booker, "booked_by": who.subject, "group_id": data.group_id,
            "purpose": data.purpose, "starts_at": data.starts_at, "ends_at": data.ends_at,
            "status": status})
        if row is None:
            metrics.BOOKINGS.labels("clash").inc()
            raise problems.conflict(clash_text(venue, other, who) if other else
                                    f"{venue['name']}在该时段已有预约", "booking-clash")
        await booking_event(conn, row, venue, who)
    metrics.BOOKINGS.labels(status).inc()
    return to_booking(row, who)


async def booking_row(conn: Connection, compound_id: uuid.UUID, booking_id: uuid.UUID) -> Any:
    row = await store.get(conn, table="bookings", id=booking_id, lock=True)
    if row is None or row["compound_id"] != compound_id:
        raise problems.not_found("预约")
    return row


async def get_booking(pool: Pool, *, compound_id: uuid.UUID, booking_id: uuid.UUID,
                      who: Principal) -> Booking:
    async with pool.acquire() as conn:
        row = await store.get(conn, table="bookings", id=booking_id)
    if row is None or row["compound_id"] != compound_id:
        raise problems.not_found("预约")
    return to_booking(row, who)


async def list_bookings(pool: Pool, *, compound_id: uuid.UUID, who: Principal,
                        query: BookingQuery) -> Page[Booking]:
    async with pool.acquire() as conn:
        rows = await store.list_bookings(
            conn, compound_id=compound_id, venue_id=query.venue_id, status=query.status,
            booker_id=who.person_id if query.mine else None,
            after=time_keyset(query.cursor), limit=query.limit + 1)
    return page_of([to_booking(r, who) for r in rows], query.limit, time_cursor)
