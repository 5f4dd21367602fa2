"""The order flow (按需点单): placed → accepted → in_service → completed → rated, or cancelled
before service; a declined assignment goes back to ordered.

Every move is a conditional UPDATE on the row version, so of two volunteers accepting at once
exactly one wins and the other gets 409; each move writes history and its event.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from linli import problems
from linli.auth import Principal
from linli.bus import write_event
from linli.db import Connection, Pool, drain, transaction
from linli.directory import Directory
from linli.events import CloudEvent
from linli.pagination import Page, page_of, time_cursor, time_keyset, whole
from linli.values import now_utc
from services.volunteers import events, ledger_store, metrics, rules, store
from services.volunteers.models import (
    AssignIn,
    CompleteIn,
    HistoryEntry,
    Order,
    OrderIn,
    OrderQuery,
    RateIn,
    ReasonIn,
)
from services.volunteers.rules import UNIT_MISSING
from services.volunteers.service import (
    acting_volunteer,
    is_staff,
    named_volunteer,
)


def to_order(row: Any) -> Order:
    return msgspec.convert({**dict(row), "status_label": rules.STATUS_LABELS[row["status"]]},
                           Order)


async def order_row(conn: Connection, compound_id: uuid.UUID, order_id: uuid.UUID) -> Any:
    return problems.owned(await store.get_order(conn, id=order_id), compound_id, "订单")


def orderer(who: Principal, data: OrderIn) -> tuple[str, bool, str]:
    """(resident id, on behalf?, contact name): residents order for themselves only."""
    if data.on_behalf_of is None:
        if not who.person_id:
            raise problems.validation("请用 on_behalf_of 指明为哪位居民点单", field="on_behalf_of")
        return who.person_id, False, ""
    if not is_staff(who):
        raise problems.forbidden("只能为自己点单；代居民点单须由社区或党组织工作人员办理")
    return str(data.on_behalf_of.person_id), True, data.on_behalf_of.name


async def place(pool: Pool, directory: Directory, *, compound_id: uuid.UUID, who: Principal,
                data: OrderIn) -> Order:
    """Order a published item for a time window at the resident's unit, within its weekly
    capacity: one statement (store.place_order) takes a place of the item's week, so
    concurrent orders cannot overbook it, and holds the item, so it is not withdrawn under an
    order."""
    resident, on_behalf, contact = orderer(who, data)
    await directory.unit(compound_id, data.unit_id, UNIT_MISSING)
    if data.window_end <= data.window_start:
        raise problems.validation("服务时段的结束须晚于开始", field="window_end")
    if data.window_end <= now_utc():
        raise problems.validation("服务时段已经过去", field="window_end")
    week = rules.week_start(data.window_start)
    fields = {
        "id": uuid.uuid4(), "compound_id": compound_id, "item_id": data.item_id,
        "resident_id": resident, "ordered_by": who.subject, "on_behalf": on_behalf,
        "contact_name": contact, "unit_id": data.unit_id, "window_start": data.window_start,
        "window_end": data.window_end, "week_start": week, "note": data.note,
        "status": "ordered"}
    # the skill is the item's, read in the statement: the event carries a placeholder there
    skill = f"skill-{uuid.uuid4()}"
    # a new order has no volunteer, minutes or rating yet
    event = _event("placed", {**fields, "skill": skill, "volunteer_id": None, "minutes": None,
                              "rating": None}, who, from_status=None, person=None)
    async with pool.acquire() as conn:
        row = await store.place_order(conn, fields=fields, actor=who.subject, event=event,
                                      note="代居民点单" if on_behalf else "",
                                      skill_placeholder=skill)
    if row["item_compound_id"] != compound_id:  # no such item, or another compound's
        raise problems.validation("服务菜单中没有这个项目", field="item_id")
    if row["item_status"] != "published":
        raise problems.conflict("该服务已下架，不能点单", "not-published")
    if row["id"] is None:
        raise problems.conflict(f"该服务 {week} 这一周已约满，请选择其他时间", "capacity-full")
    metrics.ORDERS.labels(rules.metric_skill(row["skill"]), "ordered").inc()
    return to_order(row)


async def _emit(conn: Connection, action: str, row: Any, who: Principal,
                from_status: str | None, reason: str | None = None) -> None:
    person = None
    if row["volunteer_id"] is not None:
        person = (await store.get_volunteer(conn, id=row["volunteer_id"]))["person_id"]
    await write_event(conn, _event(action, row, who, from_status, person, reason))


def _event(action: str, row: Any, who: Principal, from_status: str | None, person: str | None,
           reason: str | None = None) -> CloudEvent:
    return events.ORDER_EVENTS[action].new(
        subject=str(row["id"]), compound_id=str(row["compound_id"]),
        data=events.OrderEvent(
            order_id=row["id"], compound_id=row["compound_id"], item_id=row["item_id"],
            skill=row["skill"], resident_id=row["resident_id"], from_status=from_status,
            to_status=row["status"], by=who.subject, volunteer_id=row["volunteer_id"],
            volunteer_person_id=person, window_start=row["window_start"],
            minutes=row["minutes"], rating=row["rating"], reason=reason))


def _target(row: Any, action: str) -> str:
    try:
        return rules.next_status(row["status"], action)
    except rules.IllegalTransition as exc:
        raise problems.conflict(str(exc), "illegal-transition") from None


async def _move(conn: Connection, row: Any, action: str, who: Principal,
                fields: dict[str, Any], note: str = "") -> Any:
    """Apply `action` if the flow allows it and nobody moved the order meanwhile (409)."""
    target = _target(row, action)
    updated = await store.move_order(conn, id=row["id"], version=row["version"],
                                     fields={"status": target, **fields})
    if updated is None:
        raise problems.conflict("订单刚被他人处理，请刷新后再试", "concurrent-change")
    if target == "cancelled":  # its week's place is free again (week_places counts the rest)
        await store.release_place(conn, item_id=row["item_id"], week=row["week_start"])
    await store.insert_history(conn, order_id=row["id"], action=action,
                               from_status=row["status"], to_status=target, actor=who.subject,
                               note=note)
    await _emit(conn, action, updated, who, from_status=row["status"], reason=note or None)
    return updated


def _observe(before: Any, after: Any) -> None:
    skill = rules.metric_skill(after["skill"])
    if after["status"] != before["status"]:
        metrics.ORDERS.labels(skill, after["status"]).inc()
    if after["status"] == "accepted":
        metrics.ACCEPTANCE.labels(skill).observe(
            (after["accepted_at"] - after["created_at"]).total_seconds())
    if after["status"] == "completed":
        metrics.SERVICE_HOURS.labels(skill).inc(after["minutes"] / 60)


def _serving(row: Any, who: Principal, volunteer: Any) -> None:
    if volunteer is None or row["volunteer_id"] != volunteer["id"]:
        raise problems.forbidden("只有接单的志愿者可以这样做")


async def _me(conn: Connection, row: Any, who: Principal) -> Any:
    if not who.person_id:
        return None
    return await store.volunteer_of(conn, compound_id=row["compound_id"], person_id=who.person_id)


async def act(pool: Pool, *, compound_id: uuid.UUID, order_id: uuid.UUID, who: Principal,
              action: str, body: AssignIn | ReasonIn | CompleteIn | RateIn | None = None) -> Order:
    """Take `action` on an order: permission, flow, history, event, ledger — one transaction."""
    async with transaction(pool) as conn:
        row = await order_row(conn, compound_id, order_id)
        _target(row, action)  # an impossible move is 409 whoever asks
        fields, note = await _prepare(conn, row, who, action, body)
        updated = await _move(conn, row, action, who, fields, note)
        if action == "complete":
            await _to_ledger(conn, updated)
        elif action == "rate":
            await ledger_store.rate_entry(conn, source_id=order_id, rating=updated["rating"])
    _observe(row, updated)
    return to_order(updated)


async def _prepare(conn: Connection, row: Any, who: Principal, action: str,
                   body: Any) -> tuple[dict[str, Any], str]:
    """Who may take `action`, and the fields it sets."""
    now = now_utc()
    if action == "accept":
        volunteer = await acting_volunteer(conn, row["compound_id"], who, row["skill"])
        if volunteer["person_id"] == row["resident_id"]:
            raise problems.forbidden("不能接自己点的单")
        return {"volunteer_id": volunteer["id"], "assigned_by": who.subject,
                "accepted_at": now}, ""
    if action == "assign":
        return await _assign(conn, row, who, body), ""
    if action == "decline":
        if not is_staff(who):
            _serving(row, who, await _me(conn, row, who))
        return {"volunteer_id": None, "assigned_by": None, "accepted_at": None,
                "declines": row["declines"] + 1}, body.reason
    if action in ("start", "complete"):
        if not (action == "complete" and is_staff(who)):
            me = await _me(conn, row, who)
            _serving(row, who, me)
            if action == "start" and me["status"] != "verified":
                raise problems.forbidden("志愿者已暂停服务，不能上门；请退单或由社区改派")
        if action == "start":
            return {"started_at": now}, ""
        return {"minutes": body.minutes, "service_notes": body.notes, "completed_at": now}, ""
    if action == "rate":
        if row["resident_id"] != who.person_id:
            raise problems.forbidden("只有点单的居民可以评价")
        return {"rating": body.score, "rating_comment": body.comment, "rated_at": now}, ""
    if row["resident_id"] != who.person_id and not is_staff(who):
        raise problems.forbidden("只有点单的居民或社区可以取消订单")
    return {"cancel_reason": body.reason, "cancelled_at": now}, body.reason


async def _assign(conn: Connection, row: Any, who: Principal, body: AssignIn) -> dict[str, Any]:
    if not is_staff(who):
        raise problems.forbidden("只有社区或党组织可以派单")
    volunteer = await named_volunteer(conn, row["compound_id"], body.volunteer_id, row["skill"])
    return {"volunteer_id": volunteer["id"], "assigned_by": who.subject, "accepted_at": now_utc()}


async def _to_ledger(conn: Connection, row: Any) -> None:
    item = await store.get_item(conn, id=row["item_id"])
    await ledger_store.insert_entry(conn, fields={
        "compound_id": row["compound_id"], "volunteer_id": row["volunteer_id"],
        "source": "order", "source_id": row["id"], "skill": row["skill"],
        "title": item["title"], "person_id": row["resident_id"], "minutes": row["minutes"],
        "served_at": row["completed_at"]})


# ---------------------------------------------------------------- expiry


SYSTEM = Principal(subject="app:volunteers")
EXPIRED = "超过服务时段仍无人接单，已自动取消"


async def expire_stale(pool: Pool, *, now: dt.datetime | None = None,
                       compound_id: uuid.UUID | None = None, batch: int = 100) -> int:
    """Cancel orders still unaccepted after their window (the resident is told by the
    order.cancelled event and can order again); returns how many."""
    now = now or now_utc()

    async def expire(conn: Connection, row: Any) -> None:
        await _move(conn, row, "cancel", SYSTEM, {"cancel_reason": EXPIRED, "cancelled_at": now},
                    EXPIRED)

    return await drain(
        pool, claim=lambda conn, limit: store.claim_stale(conn, now=now, compound_id=compound_id,
                                                          limit=limit),
        apply=expire, after=lambda row: metrics.ORDERS.labels(
            rules.metric_skill(row["skill"]), "cancelled").inc(), batch=batch)


# ---------------------------------------------------------------- reading


async def _may_see(conn: Connection, row: Any, who: Principal) -> bool:
    if is_staff(who) or row["resident_id"] == who.person_id:
        return True
    me = await _me(conn, row, who)
    if me is None:
        return False
    return row["volunteer_id"] == me["id"] or (
        row["status"] == "ordered" and me["status"] == "verified" and row["skill"] in me["skills"])


async def get_order(pool: Pool, *, compound_id: uuid.UUID, order_id: uuid.UUID,
                    who: Principal) -> Order:
    async with pool.acquire() as conn:
        row = await order_row(conn, compound_id, order_id)
        if not await _may_see(conn, row, who):
            raise problems.forbidden("你无权查看这个订单")
    return to_order(row)


async def list_orders(pool: Pool, *, compound_id: uuid.UUID, who: Principal,
                      query: OrderQuery) -> Page[Order]:
    async with pool.acquire() as conn:
        me = None if not who.person_id else await store.volunteer_of(
            conn, compound_id=compound_id, person_id=who.person_id)
        verified = me is not None and me["status"] == "verified"
        rows = await store.list_orders(
            conn, compound_id=compound_id, status=query.status, skill=query.skill,
            staff=is_staff(who), person_id=who.person_id,
            volunteer_id=me["id"] if me else None,
            skills=list(me["skills"]) if verified and me else [], after=time_keyset(query.cursor),
            limit=query.limit + 1)
    return page_of([to_order(r) for r in rows], query.limit, time_cursor)


async def history(pool: Pool, *, compound_id: uuid.UUID, order_id: uuid.UUID,
                  who: Principal) -> Page[HistoryEntry]:
    """The order's few steps (placed to rated), as one page."""
    async with pool.acquire() as conn:
        row = await order_row(conn, compound_id, order_id)
        if not await _may_see(conn, row, who):
            raise problems.forbidden("你无权查看这个订单")
        rows = await store.list_history(conn, order_id=order_id)
    return whole([msgspec.convert(dict(r), HistoryEntry) for r in rows])
