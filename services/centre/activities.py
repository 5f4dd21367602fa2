"""Activity plans per resident group, and activities: created with their venue booked in the
same transaction, listed with how full they are, cancelled (releasing the venue and naming
everyone signed up). Sign-ups are in signups.py."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from linli import problems
from linli.auth import Principal
from linli.bus import emit
from linli.db import Connection, Pool, transaction
from linli.pagination import Page, page_of, time_cursor, time_keyset
from services.centre import activity_store as st
from services.centre import events, group_store, rules, store
from services.centre.models import (
    Activity,
    ActivityIn,
    ActivityQuery,
    Plan,
    PlanIn,
    PlanQuery,
)
from services.centre.service import (
    booking_event,
    clash_text,
    is_staff,
    now_utc,
    slot_problem,
    try_insert,
    venue_row,
)


def to_plan(row: Any, activities: list[Activity] | None = None) -> Plan:
    return msgspec.convert({**dict(row), "activities": activities or [],
                            "audience_label": rules.AUDIENCES.get(row["audience"],
                                                                  row["audience"])}, Plan)


def to_activity(row: Any) -> Activity:
    return msgspec.convert(dict(row), Activity)


def _staff(who: Principal) -> None:
    if not is_staff(who):
        raise problems.forbidden("只有社区、物业或业委会工作人员可以这样做")


# ---------------------------------------------------------------- plans


async def create_plan(pool: Pool, *, compound_id: uuid.UUID, who: Principal,
                      data: PlanIn) -> Plan:
    async with transaction(pool) as conn:
        row = await store.insert(conn, table="activity_plans", fields={
            "id": uuid.uuid4(), "compound_id": compound_id, "audience": data.audience,
            "period": data.period, "title": data.title, "summary": data.summary,
            "status": "draft", "created_by": who.subject}, tail="ON CONFLICT DO NOTHING RETURNING *")
    if row is None:
        raise problems.conflict(f"{rules.AUDIENCES.get(data.audience, data.audience)}"
                                f" {data.period} 的活动计划已经存在", "duplicate-plan")
    return to_plan(row)


async def plan_row(conn: Connection, compound_id: uuid.UUID, plan_id: uuid.UUID,
                   *, lock: bool = False, field: str | None = None) -> Any:
    row = await store.get(conn, table="activity_plans", id=plan_id, lock=lock)
    missing = problems.validation("本小区没有这个活动计划", field=field) if field else None
    return problems.owned(row, compound_id, "活动计划", missing=missing)


async def publish_plan(pool: Pool, *, compound_id: uuid.UUID, plan_id: uuid.UUID,
                       who: Principal) -> Plan:
    """Publish the plan with its activities; notify puts it on the notice board."""
    async with transaction(pool) as conn:
        row = await plan_row(conn, compound_id, plan_id, lock=True)
        if row["status"] == "published":
            raise problems.conflict("该活动计划已发布", "already-published")
        items = await st.plan_activities(conn, plan_id=plan_id)
        row = await store.update(conn, table="activity_plans", id=plan_id,
                                 fields={"status": "published", "published_at": now_utc()})
        await emit(conn, events.PLAN_PUBLISHED, subject=str(plan_id),
                   compound_id=str(compound_id),
                   data=events.PlanPublished(plan_id=plan_id, compound_id=compound_id,
                                             audience=row["audience"], period=row["period"],
                                             title=row["title"], activities=len(items),
                                             by=who.subject))
    return to_plan(row, [to_activity(r) for r in items])


async def get_plan(pool: Pool, *, compound_id: uuid.UUID, plan_id: uuid.UUID) -> Plan:
    async with pool.acquire() as conn:
        row = await plan_row(conn, compound_id, plan_id)
        items = await st.plan_activities(conn, plan_id=plan_id)
    return to_plan(row, [to_activity(r) for r in items])


async def list_plans(pool: Pool, *, compound_id: uuid.UUID, query: PlanQuery) -> Page[Plan]:
    async with pool.acquire() as conn:
        rows = await st.list_plans(conn, compound_id=compound_id, audience=query.audience,
                                   period=query.period, after=time_keyset(query.cursor),
                                   limit=query.limit + 1)
    return page_of([to_plan(r) for r in rows], query.limit, time_cursor)


# ---------------------------------------------------------------- activities


async def _organiser_may(conn: Connection, compound_id: uuid.UUID, who: Principal,
                         group_id: uuid.UUID | None) -> None:
    """Staff organise any activity; a group's leaders organise their group's activities."""
    if group_id is not None:
        group = await group_store.group_of(conn, group_id=group_id, compound_id=compound_id)
        if group is None or group["status"] != "approved":
            raise problems.validation("本小区没有这个已成立的兴趣小组", field="group_id")
        if is_staff(who) or await group_store.is_leader(conn, group_id=group_id,
                                                        person_id=who.person_id):
            return
    if not is_staff(who):
        raise problems.forbidden("活动由工作人员发布，兴趣小组的活动由组长发布")


def _windows(data: ActivityIn, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    if data.ends_at <= data.starts_at:
        raise problems.validation("活动结束须晚于开始", field="ends_at")
    if data.starts_at <= now:
        raise problems.validation("活动开始时间已经过去", field="starts_at")
    opens = data.signup_opens_at or now
    closes = data.signup_closes_at or data.starts_at
    if closes <= opens:
        raise problems.validation("报名截止须晚于报名开始", field="signup_closes_at")
    if closes > data.starts_at:
        raise problems.validation("报名须在活动开始前截止", field="signup_closes_at")
    return opens, closes


async def _book_venue(conn: Connection, compound_id: uuid.UUID, who: Principal,
                      data: ActivityIn) -> uuid.UUID | None:
    """The activity's venue booking, in the same transaction (a clash is a 409 naming it)."""
    if data.venue_id is None:
        return None
    venue = await venue_row(conn, compound_id, data.venue_id, field="venue_id")
    if data.capacity > venue["capacity"]:
        raise problems.validation(f"{venue['name']}最多容纳 {venue['capacity']} 人",
                                  field="capacity")
    problem = await slot_problem(conn, venue, data.starts_at, data.ends_at, now=now_utc(),
                                 ahead=False)
    if problem:
        raise problems.validation(problem[1], field=problem[0])
    status = "pending" if venue["requires_approval"] and not is_staff(who) else "confirmed"
    row, other = await try_insert(conn, venue, {
        "id": uuid.uuid4(), "compound_id": compound_id, "venue_id": venue["id"],
        "booker_id": who.person_id or who.subject, "booked_by": who.subject,
        "group_id": data.group_id, "purpose": data.title, "starts_at": data.starts_at,
        "ends_at": data.ends_at, "status": status})
    if row is None:
        raise problems.conflict(clash_text(venue, other, who) if other else "场地在该时段已有预约",
                                "booking-clash")
    await booking_event(conn, row, venue, who)
    booking_id: uuid.UUID = row["id"]
    return booking_id


async def create_activity(pool: Pool, *, compound_id: uuid.UUID, who: Principal,
                          data: ActivityIn) -> Activity:
    opens, closes = _windows(data, now_utc())
    async with transaction(pool) as conn:
        await _organiser_may(conn, compound_id, who, data.group_id)
        if data.plan_id is not None:
            await plan_row(conn, compound_id, data.plan_id, field="plan_id")
        booking_id = await _book_venue(conn, compound_id, who, data)
        row = await store.insert(conn, table="activities", fields={
            "id": uuid.uuid4(), "compound_id": compound_id, "plan_id": data.plan_id,
            "group_id": data.group_id, "title": data.title, "description": data.description,
            "organiser": data.organiser, "audience": data.audience, "venue_id": data.venue_id,
            "booking_id": booking_id, "starts_at": data.starts_at, "ends_at": data.ends_at,
            "capacity": data.capacity, "signup_opens_at": opens, "signup_closes_at": closes,
            "status": "open", "created_by": who.subject})
        await activity_event(conn, events.ACTIVITY_CREATED, row, who)
    return to_activity({**dict(row), "confirmed": 0, "waiting": 0})


async def activity_event(conn: Connection, kind: Any, row: Any, who: Principal,
                          people: list[str] | None = None, reason: str | None = None) -> None:
    await emit(conn, kind, subject=str(row["id"]), compound_id=str(row["compound_id"]),
               data=events.ActivityEvent(
                   activity_id=row["id"], compound_id=row["compound_id"], title=row["title"],
                   audience=row["audience"], starts_at=row["starts_at"],
                   capacity=row["capacity"], by=who.subject, people=people or [],
                   reason=reason))


async def activity_row(conn: Connection, compound_id: uuid.UUID, activity_id: uuid.UUID,
                       *, lock: bool = False) -> Any:
    row = await (st.lock_activity(conn, id=activity_id) if lock
                 else st.activity(conn, id=activity_id))
    return problems.owned(row, compound_id, "活动")


async def get_activity(pool: Pool, *, compound_id: uuid.UUID,
                       activity_id: uuid.UUID) -> Activity:
    async with pool.acquire() as conn:
        return to_activity(await activity_row(conn, compound_id, activity_id))


async def list_activities(pool: Pool, *, compound_id: uuid.UUID, query: ActivityQuery,
                          upcoming: bool = False) -> Page[Activity]:
    async with pool.acquire() as conn:
        rows = await st.list_activities(
            conn, compound_id=compound_id, audience=query.audience, plan_id=query.plan_id,
            group_id=query.group_id, upcoming=upcoming, after=time_keyset(query.cursor),
            limit=query.limit + 1)
    return page_of([to_activity(r) for r in rows], query.limit, time_cursor)


async def cancel_activity(pool: Pool, *, compound_id: uuid.UUID, activity_id: uuid.UUID,
                          who: Principal, reason: str) -> Activity:
    """Cancel: the venue is released and everyone signed up is told (the event names them)."""
    async with transaction(pool) as conn:
        row = await activity_row(conn, compound_id, activity_id, lock=True)
        if not is_staff(who) and not (row["group_id"] and await group_store.is_leader(
                conn, group_id=row["group_id"], person_id=who.person_id)):
            raise problems.forbidden("只有工作人员或小组组长可以取消活动")
        if row["status"] != "open" or row["starts_at"] <= now_utc():
            raise problems.conflict("只能取消尚未开始的活动", "illegal-transition")
        people = await st.live_people(conn, activity_id=activity_id)
        row = await store.update(conn, table="activities", id=activity_id,
                                 fields={"status": "cancelled", "cancel_reason": reason})
        if row["booking_id"] is not None:
            booking = await store.set_booking_status(conn, id=row["booking_id"],
                                                     status="cancelled", by=who.subject,
                                                     reason=reason)
            venue = await store.get(conn, table="venues", id=booking["venue_id"])
            await booking_event(conn, booking, venue, who, reason)
        await activity_event(conn, events.ACTIVITY_CANCELLED, row, who, people, reason)
        row = await st.activity(conn, id=activity_id)
    return to_activity(row)
