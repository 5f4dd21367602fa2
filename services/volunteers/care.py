"""Recurring care (定期关爱): a plan for a person (e.g. a weekly visit to an elderly resident
whose children work away), its scheduled visits, recording them, and flagging a visit not
recorded by its due time.

A plan always has exactly one open visit: the next one is scheduled when the open one is
recorded or missed, at first_due_at + n·interval, so the schedule never drifts.
CarePlanWorkflow (workflows/care/) sleeps until each due time and calls `miss`; a sweep in
every replica (FOR UPDATE SKIP LOCKED) is the backstop for visits the workflow did not reach.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from linli import problems
from linli.auth import Principal
from linli.bus import emit
from linli.db import Connection, Pool, drain, transaction
from linli.directory import Directory
from linli.pagination import Page, PageQuery, instant, keyset, page_of, time_keyset
from linli.values import now_utc
from services.volunteers import care_store, events, ledger_store, metrics, rules, store
from services.volunteers.models import CarePlan, CarePlanIn, CareVisit, PlanQuery, VisitIn
from services.volunteers.rules import UNIT_MISSING
from services.volunteers.service import (
    check_skills,
    ensure_seeded,
    is_staff,
    named_volunteer,
    volunteer_row,
)

# The workflow flags a missed visit at its due time; the sweep only catches what it did not.
SWEEP_GRACE = dt.timedelta(hours=1)
BATCH = 100


def to_visit(row: Any) -> CareVisit:
    return msgspec.convert({k: row[k] for k in CareVisit.__struct_fields__}, CareVisit)


def to_plan(row: Any, visit: Any = None) -> CarePlan:
    fields = {k: row[k] for k in CarePlan.__struct_fields__ if k != "next_visit"}
    return msgspec.convert({**fields, "next_visit": to_visit(visit) if visit else None}, CarePlan)


async def plan_row(conn: Connection, compound_id: uuid.UUID, plan_id: uuid.UUID,
                   *, lock: bool = False) -> Any:
    return problems.owned(await care_store.get_plan(conn, id=plan_id, lock=lock), compound_id,
                          "关爱计划")


async def _schedule(conn: Connection, plan: Any, seq: int) -> Any:
    due = rules.visit_due(plan["first_due_at"], plan["interval_days"], seq)
    return await care_store.insert_visit(conn, plan_id=plan["id"],
                                         compound_id=plan["compound_id"], seq=seq, due_at=due)


async def _plan_event(conn: Connection, kind: Any, plan: Any, who: str) -> None:
    await emit(conn, kind, subject=str(plan["id"]), compound_id=str(plan["compound_id"]),
               data=events.CarePlanChanged(
                   plan_id=plan["id"], compound_id=plan["compound_id"],
                   person_id=plan["person_id"], volunteer_id=plan["volunteer_id"],
                   interval_days=plan["interval_days"], by=who))


async def _visit_event(conn: Connection, kind: Any, visit: Any, plan: Any) -> None:
    await emit(conn, kind, subject=str(visit["id"]), compound_id=str(visit["compound_id"]),
               data=events.CareVisitEvent(
                   visit_id=visit["id"], plan_id=visit["plan_id"],
                   compound_id=visit["compound_id"], seq=visit["seq"],
                   person_id=plan["person_id"], volunteer_id=plan["volunteer_id"],
                   due_at=visit["due_at"], minutes=visit["minutes"]))


async def create_plan(pool: Pool, directory: Directory, *, compound_id: uuid.UUID,
                      who: Principal, data: CarePlanIn) -> CarePlan:
    """Staff set up a plan with a verified volunteer who has the skill; visit 1 is scheduled."""
    await ensure_seeded(pool, directory, compound_id=compound_id)
    await directory.unit(compound_id, data.unit_id, UNIT_MISSING)
    if data.first_due_at <= now_utc():
        raise problems.validation("第一次探访时间须在将来", field="first_due_at")
    async with transaction(pool) as conn:
        await check_skills(conn, compound_id, [data.skill])
        await named_volunteer(conn, compound_id, data.volunteer_id, data.skill)
        plan = await care_store.insert_plan(conn, fields={
            "id": uuid.uuid4(), "compound_id": compound_id, "person_id": str(data.person_id),
            "person_name": data.person_name, "unit_id": data.unit_id,
            "volunteer_id": data.volunteer_id, "skill": data.skill,
            "interval_days": data.interval_days, "first_due_at": data.first_due_at,
            "note": data.note, "status": "active", "created_by": who.subject})
        visit = await _schedule(conn, plan, 1)
        await _plan_event(conn, events.CARE_PLAN_CREATED, plan, who.subject)
    return to_plan(plan, visit)


async def end_plan(pool: Pool, *, compound_id: uuid.UUID, plan_id: uuid.UUID,
                   who: Principal) -> CarePlan:
    async with transaction(pool) as conn:
        plan = await plan_row(conn, compound_id, plan_id, lock=True)
        if plan["status"] != "active":
            raise problems.conflict("关爱计划已结束", "illegal-transition")
        await care_store.cancel_open(conn, plan_id=plan_id)
        plan = await care_store.end_plan(conn, id=plan_id)
        await _plan_event(conn, events.CARE_PLAN_ENDED, plan, who.subject)
    return to_plan(plan)


async def _visible(conn: Connection, plan: Any, who: Principal) -> None:
    """Staff and the plan's own volunteer see a plan (it describes a vulnerable person)."""
    if is_staff(who):
        return
    volunteer = await store.get_volunteer(conn, id=plan["volunteer_id"])
    if volunteer["person_id"] != who.person_id:
        raise problems.forbidden("只有社区和计划指定的志愿者可以查看关爱计划")


async def get_plan(pool: Pool, *, compound_id: uuid.UUID, plan_id: uuid.UUID,
                   who: Principal) -> CarePlan:
    async with pool.acquire() as conn:
        plan = await plan_row(conn, compound_id, plan_id)
        await _visible(conn, plan, who)
        return to_plan(plan, await care_store.open_visit(conn, plan_id=plan_id))


async def list_plans(pool: Pool, *, compound_id: uuid.UUID, who: Principal,
                     query: PlanQuery) -> Page[CarePlan]:
    """Staff see every plan (or one volunteer's); a volunteer sees their own. A page, active
    plans first, each with its next visit (two queries)."""
    after = keyset(query.cursor, str, instant, uuid.UUID)
    volunteer_id = query.volunteer_id
    async with pool.acquire() as conn:
        if not is_staff(who):
            me = await store.volunteer_of(conn, compound_id=compound_id,
                                          person_id=who.person_id)
            if me is None:
                return Page(items=[])
            volunteer_id = me["id"]
        rows = await care_store.list_plans(
            conn, compound_id=compound_id, volunteer_id=volunteer_id,
            after=(after[0], after[1], after[2]) if after else None, limit=query.limit + 1)
        due = {v["plan_id"]: v for v in await care_store.open_visits(
            conn, plan_ids=[r["id"] for r in rows])}
    return page_of([to_plan(r, due.get(r["id"])) for r in rows], query.limit,
                   lambda p: [p.status, p.created_at.isoformat(), str(p.id)])


async def visits(pool: Pool, *, compound_id: uuid.UUID, plan_id: uuid.UUID,
                 who: Principal, query: PageQuery) -> Page[CareVisit]:
    """A page of the plan's visits in order."""
    after = keyset(query.cursor, int)
    async with pool.acquire() as conn:
        await _visible(conn, await plan_row(conn, compound_id, plan_id), who)
        rows = await care_store.list_visits(conn, plan_id=plan_id,
                                            after=after[0] if after else None,
                                            limit=query.limit + 1)
    return page_of([to_visit(r) for r in rows], query.limit, lambda v: [v.seq])


async def record(pool: Pool, *, compound_id: uuid.UUID, plan_id: uuid.UUID,
                 visit_id: uuid.UUID, who: Principal, data: VisitIn) -> CareVisit:
    """The plan's volunteer (or staff for them) records the open visit within its period
    (one interval before its due time); it enters the ledger and the next visit is scheduled."""
    async with transaction(pool) as conn:
        # plan before visit, as end_plan locks them: an end waits, then cancels the next visit
        plan = await plan_row(conn, compound_id, plan_id, lock=True)
        volunteer = await volunteer_row(conn, compound_id, plan["volunteer_id"])
        if not is_staff(who):
            if volunteer["person_id"] != who.person_id:
                raise problems.forbidden("只有计划指定的志愿者或社区可以记录探访")
            if volunteer["status"] != "verified":
                raise problems.forbidden("志愿者已暂停服务，探访由社区记录或改派")
        visit = await care_store.get_visit(conn, id=visit_id, lock=True)
        if visit is None or visit["plan_id"] != plan_id:
            raise problems.not_found("探访")
        if visit["status"] != "due":
            raise problems.conflict("这次探访已记录、已错过或已取消", "illegal-transition")
        now = now_utc()
        if now < visit["due_at"] - dt.timedelta(days=plan["interval_days"]):
            raise problems.conflict("这次探访还没到时间，不能提前记录", "not-open-yet")
        visit = await care_store.update_visit(conn, id=visit_id, fields={
            "status": "recorded", "recorded_at": now, "minutes": data.minutes,
            "notes": data.notes, "volunteer_id": plan["volunteer_id"]})
        await ledger_store.insert_entry(conn, fields={
            "compound_id": compound_id, "volunteer_id": plan["volunteer_id"],
            "source": "care_visit", "source_id": visit_id, "skill": plan["skill"],
            "title": f"定期关爱: {plan['person_name']} 第{visit['seq']}次",
            "person_id": plan["person_id"], "minutes": data.minutes, "served_at": now})
        if plan["status"] == "active":
            await _schedule(conn, plan, visit["seq"] + 1)
        await _visit_event(conn, events.CARE_VISIT_RECORDED, visit, plan)
    metrics.CARE_VISITS_RECORDED.inc()
    metrics.SERVICE_HOURS.labels(rules.metric_skill(plan["skill"])).inc(data.minutes / 60)
    return to_visit(visit)


async def flags(pool: Pool, *, compound_id: uuid.UUID, query: PageQuery) -> Page[CareVisit]:
    """A page of missed visits the community has not followed up yet, oldest first."""
    async with pool.acquire() as conn:
        rows = await care_store.flags(conn, compound_id=compound_id,
                                      after=time_keyset(query.cursor), limit=query.limit + 1)
    return page_of([to_visit(r) for r in rows], query.limit,
                   lambda v: [v.due_at.isoformat(), str(v.id)])


async def acknowledge(pool: Pool, *, compound_id: uuid.UUID, visit_id: uuid.UUID,
                      who: Principal) -> CareVisit:
    async with transaction(pool) as conn:
        visit = problems.owned(await care_store.get_visit(conn, id=visit_id, lock=True),
                               compound_id, "探访")
        if visit["status"] != "missed" or visit["acknowledged_at"] is not None:
            raise problems.conflict("只有未跟进的错过探访可以标记为已跟进", "illegal-transition")
        visit = await care_store.update_visit(conn, id=visit_id, fields={
            "acknowledged_by": who.subject, "acknowledged_at": now_utc()})
    return to_visit(visit)


# ---------------------------------------------------------------- missed visits


async def _mark_missed(conn: Connection, visit: Any, plan: Any, now: dt.datetime) -> Any:
    """Flag the visit, tell everyone (event) and schedule the next one of an active plan."""
    visit = await care_store.update_visit(conn, id=visit["id"], fields={
        "status": "missed", "missed_at": now})
    await _visit_event(conn, events.CARE_VISIT_MISSED, visit, plan)
    if plan["status"] == "active":
        await _schedule(conn, plan, visit["seq"] + 1)
    return visit


async def miss(pool: Pool, *, compound_id: uuid.UUID, plan_id: uuid.UUID,
               visit_id: uuid.UUID) -> CareVisit:
    """CarePlanWorkflow's call at the due time: a visit still not recorded is missed.
    Idempotent: a visit already recorded, missed or cancelled is returned as it is."""
    now = now_utc()
    async with transaction(pool) as conn:
        plan = await plan_row(conn, compound_id, plan_id, lock=True)  # see record
        visit = await care_store.get_visit(conn, id=visit_id, lock=True)
        if visit is None or visit["plan_id"] != plan_id:
            raise problems.not_found("探访")
        if visit["status"] != "due":
            return to_visit(visit)
        if visit["due_at"] > now:
            raise problems.conflict("探访还未到期", "not-due")
        visit = await _mark_missed(conn, visit, plan, now)
    metrics.CARE_VISITS_MISSED.inc()
    return to_visit(visit)


async def sweep_missed(pool: Pool, *, now: dt.datetime | None = None,
                       compound_id: uuid.UUID | None = None, batch: int = BATCH) -> int:
    """Backstop of CarePlanWorkflow: flag due visits more than SWEEP_GRACE past their time
    (e.g. while the worker was down) as missed; returns how many."""
    cutoff = (now or now_utc()) - SWEEP_GRACE

    async def mark(conn: Connection, row: Any) -> None:
        plan = await care_store.get_plan(conn, id=row["plan_id"])
        await _mark_missed(conn, row, plan, now or now_utc())

    return await drain(
        pool, claim=lambda conn, limit: care_store.claim_overdue(
            conn, now=cutoff, compound_id=compound_id, limit=limit),
        apply=mark, after=lambda row: metrics.CARE_VISITS_MISSED.inc(), batch=batch)
