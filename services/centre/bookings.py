"""A booking's life after it is made: approval, cancellation, moving one occurrence, no-show;
and weekly series (tai chi every Tuesday and Thursday 07:00–08:00 until June), created with
the occurrences that fit and an answer naming each one that does not."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from linli import problems
from linli.auth import Principal
from linli.bus import emit
from linli.db import Connection, Pool, transaction
from services.centre import events, metrics, rules, store
from services.centre.models import Booking, Clash, MoveIn, Series, SeriesIn
from services.centre.service import (
    acting_for,
    booking_event,
    booking_row,
    check_booker,
    clash_text,
    is_staff,
    now_utc,
    sees_whole,
    slot_problem,
    to_booking,
    try_insert,
    venue_row,
)

# action -> (statuses it may start from, status it leads to, who: staff or booker)
ACTIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "approve": (frozenset({"pending"}), "confirmed", "staff"),
    "decline": (frozenset({"pending"}), "declined", "staff"),
    "cancel": (frozenset({"pending", "confirmed"}), "cancelled", "booker"),
    "no_show": (frozenset({"confirmed"}), "no_show", "staff"),
}
STATUS_LABELS = {"pending": "待审核", "confirmed": "已确认", "declined": "未通过",
                 "cancelled": "已取消", "no_show": "未到场"}
ACTION_LABELS = {"approve": "审核通过", "decline": "驳回", "cancel": "取消", "no_show": "登记未到场"}


def _allowed(row: Any, action: str, who: Principal) -> str:
    sources, target, actor = ACTIONS[action]
    staff = is_staff(who)
    if actor == "staff" and not staff:
        raise problems.forbidden("只有社区、物业或业委会工作人员可以这样做")
    if actor == "booker" and not staff and who.person_id != row["booker_id"]:
        raise problems.forbidden("只有预约人或工作人员可以取消预约")
    if row["status"] not in sources:
        raise problems.conflict(f"预约当前为“{STATUS_LABELS[row['status']]}”，"
                                f"不能{ACTION_LABELS[action]}", "illegal-transition")
    now = now_utc()
    if action == "cancel" and row["starts_at"] <= now:
        raise problems.conflict("预约时段已经开始，不能取消", "illegal-transition")
    if action == "no_show" and row["starts_at"] > now:
        raise problems.conflict("预约时段还没开始，不能登记未到场", "illegal-transition")
    return target


async def act(pool: Pool, *, compound_id: uuid.UUID, booking_id: uuid.UUID, who: Principal,
              action: str, reason: str | None = None) -> Booking:
    async with transaction(pool) as conn:
        row = await booking_row(conn, compound_id, booking_id)
        target = _allowed(row, action, who)
        venue = await store.get(conn, table="venues", id=row["venue_id"])
        row = await store.set_booking_status(conn, id=booking_id, status=target,
                                             by=who.subject, reason=reason)
        await booking_event(conn, row, venue, who, reason)
    metrics.BOOKINGS.labels(target).inc()
    return to_booking(row, who)


async def release_for_meeting(conn: Connection, *, booking_id: uuid.UUID, reason: str) -> None:
    """A cancelled council meeting frees the venue it booked (once; a booking already ended,
    begun or cancelled by hand stays as it is)."""
    row = await store.get(conn, table="bookings", id=booking_id, lock=True)
    if row is None or row["status"] not in store.LIVE or row["starts_at"] <= now_utc():
        return
    venue = await store.get(conn, table="venues", id=row["venue_id"])
    meetings = Principal(subject="app:meetings")
    row = await store.set_booking_status(conn, id=booking_id, status="cancelled",
                                         by=meetings.subject, reason=reason)
    await booking_event(conn, row, venue, meetings, reason)
    metrics.BOOKINGS.labels("cancelled").inc()


async def move(pool: Pool, *, compound_id: uuid.UUID, booking_id: uuid.UUID, who: Principal,
               data: MoveIn) -> Booking:
    """Move one booking (typically one occurrence of a series) to another time; the new slot
    obeys the same rules and the database refuses an overlap."""
    async with transaction(pool) as conn:
        row = await booking_row(conn, compound_id, booking_id)
        if not is_staff(who) and who.person_id != row["booker_id"]:
            raise problems.forbidden("只有预约人或工作人员可以改期")
        if row["status"] not in store.LIVE or row["starts_at"] <= now_utc():
            raise problems.conflict("只能改期尚未开始的有效预约", "illegal-transition")
        venue = await store.get(conn, table="venues", id=row["venue_id"])
        problem = await slot_problem(conn, venue, data.starts_at, data.ends_at, now=now_utc(),
                                     ahead=False)
        if problem:
            raise problems.validation(problem[1], field=problem[0])
        other = await store.clash(conn, venue_id=venue["id"], starts_at=data.starts_at,
                                  ends_at=data.ends_at, buffer_minutes=venue["buffer_minutes"],
                                  other_than=booking_id)
        if other is not None:
            raise problems.conflict(clash_text(venue, other, who), "booking-clash")
        try:
            async with conn.transaction():
                row = await store.move_booking(conn, id=booking_id, starts_at=data.starts_at,
                                               ends_at=data.ends_at,
                                               buffer_minutes=venue["buffer_minutes"])
        except asyncpg.ExclusionViolationError:  # a concurrent booking took it after our check
            raise problems.conflict(f"{venue['name']}在该时段刚被预约", "booking-clash") from None
        await booking_event(conn, row, venue, who, kind=events.BOOKING_MOVED)
    return to_booking(row, who)


# ---------------------------------------------------------------- series


async def create_series(pool: Pool, *, compound_id: uuid.UUID, who: Principal,
                        data: SeriesIn) -> Series:
    booker = acting_for(who, None) if not is_staff(who) else (who.person_id or who.subject)
    start, end = dt.time.fromisoformat(data.start_time), dt.time.fromisoformat(data.end_time)
    if end <= start:
        raise problems.validation("结束时间须晚于开始时间", field="end_time")
    if data.last_day < data.first_day:
        raise problems.validation("系列的最后一天须不早于第一天", field="last_day")
    slots = rules.expand_series(weekdays=data.weekdays, start_time=start, end_time=end,
                                first_day=data.first_day, last_day=data.last_day,
                                exceptions=data.exceptions)
    if not slots:
        raise problems.validation("该时间范围内没有符合的日期", field="weekdays")
    if len(slots) > rules.MAX_SERIES_OCCURRENCES:
        raise problems.validation(f"一个系列最多 {rules.MAX_SERIES_OCCURRENCES} 次，请缩短时间范围",
                                  field="last_day")
    async with transaction(pool) as conn:
        venue = await venue_row(conn, compound_id, data.venue_id, field="venue_id")
        await check_booker(conn, venue, who, booker, data.group_id)
        series_id = uuid.uuid4()
        await store.insert(conn, table="booking_series", fields={
            "id": series_id, "compound_id": compound_id, "venue_id": venue["id"],
            "booker_id": booker, "group_id": data.group_id, "purpose": data.purpose,
            "weekdays": sorted(set(data.weekdays)), "start_time": start, "end_time": end,
            "first_day": data.first_day, "last_day": data.last_day,
            "exceptions": sorted(set(data.exceptions)), "created_by": who.subject})
        status = "pending" if venue["requires_approval"] and not is_staff(who) else "confirmed"
        booked, clashes = [], []
        for starts_at, ends_at in slots:
            problem = await slot_problem(conn, venue, starts_at, ends_at, now=now_utc(),
                                         ahead=False)
            if problem:
                clashes.append(Clash(starts_at=starts_at, ends_at=ends_at, detail=problem[1]))
                continue
            row, other = await try_insert(conn, venue, {
                "id": uuid.uuid4(), "compound_id": compound_id, "venue_id": venue["id"],
                "series_id": series_id, "booker_id": booker, "booked_by": who.subject,
                "group_id": data.group_id, "purpose": data.purpose, "starts_at": starts_at,
                "ends_at": ends_at, "status": status})
            if row is None:
                clashes.append(Clash(starts_at=starts_at, ends_at=ends_at,
                                     detail=clash_text(venue, other, who) if other else "时段冲突",
                                     booking_id=other["id"] if other and sees_whole(who, other)
                                     else None))
            else:
                booked.append(to_booking(row, who))
        await emit(conn, events.SERIES_CREATED, subject=str(series_id),
                   compound_id=str(compound_id),
                   data=events.SeriesCreated(series_id=series_id, compound_id=compound_id,
                                             venue_id=venue["id"], booker_id=booker,
                                             booked=len(booked), clashes=len(clashes),
                                             by=who.subject))
    metrics.BOOKINGS.labels(status).inc(len(booked))
    return Series(id=series_id, venue_id=data.venue_id, booked=booked, clashes=clashes)


async def get_series(pool: Pool, *, compound_id: uuid.UUID, series_id: uuid.UUID,
                     who: Principal) -> Series:
    async with pool.acquire() as conn:
        row = problems.owned(await store.get(conn, table="booking_series", id=series_id),
                             compound_id, "系列预约")
        rows = await store.series_bookings(conn, series_id=series_id)
    return Series(id=series_id, venue_id=row["venue_id"], booked=[to_booking(r, who) for r in rows],
                  clashes=[])
