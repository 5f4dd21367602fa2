"""Sign-ups with a waiting list, check-in at the door and feedback.

Every sign-up and cancellation of one activity takes the activity row lock first, so the
confirmed count never passes capacity, the waiting list keeps arrival order, and a freed place
goes to exactly one person waiting (the first), however many requests arrive at once.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

import asyncpg
import msgspec

from linli import problems
from linli.auth import Principal
from linli.bus import emit
from linli.db import Connection, Pool, transaction
from linli.directory import Directory
from linli.pagination import Page, PageQuery, keyset, page_of
from linli.values import now_utc
from services.centre import activity_store as st
from services.centre import events, metrics, rules, store
from services.centre.activities import activity_row
from services.centre.models import CheckInIn, Signup, SignupIn
from services.centre.service import is_staff, named_person

CHECK_IN_EARLY = dt.timedelta(hours=1)


def to_signup(row: Any, position: int | None = None) -> Signup:
    data = dict(row)
    data.setdefault("position", position)
    return msgspec.convert(data, Signup)


async def _signup_event(conn: Connection, kind: Any, signup: Any, activity: Any,
                        position: int | None = None, reason: str | None = None) -> None:
    await emit(conn, kind, subject=str(signup["id"]), compound_id=str(activity["compound_id"]),
               data=events.SignupEvent(
                   signup_id=signup["id"], activity_id=activity["id"],
                   compound_id=activity["compound_id"], person_id=signup["person_id"],
                   title=activity["title"], starts_at=activity["starts_at"],
                   status=signup["status"], position=position,
                   confirm_by=signup["confirm_by"], reason=reason))


async def sign_up(pool: Pool, directory: Directory, *, compound_id: uuid.UUID,
                  activity_id: uuid.UUID, who: Principal, data: SignupIn) -> Signup:
    """A place while places remain, else the waiting list in arrival order."""
    person = await named_person(directory, compound_id, who, data.person_id)
    async with transaction(pool) as conn:
        activity = await activity_row(conn, compound_id, activity_id, lock=True)
        now = now_utc()
        if activity["status"] != "open":
            raise problems.conflict("该活动已取消或结束，不能报名", "activity-closed")
        if not activity["signup_opens_at"] <= now < activity["signup_closes_at"]:
            raise problems.conflict("不在报名时间内", "signup-closed")
        status = rules.place_for(await st.confirmed_count(conn, activity_id=activity_id),
                                 activity["capacity"])
        try:
            async with conn.transaction():
                row = await store.insert(conn, table="signups", fields={
                    "id": uuid.uuid4(), "activity_id": activity_id, "compound_id": compound_id,
                    "person_id": person, "name": data.name or who.name, "status": status,
                    "code": secrets.token_hex(4)})
        except asyncpg.UniqueViolationError:
            raise problems.conflict("已经报名了这项活动", "already-signed-up") from None
        place = (await st.position(conn, activity_id=activity_id, seq=row["seq"])
                 if status == "waiting" else None)
        await _signup_event(conn, events.ACTIVITY_SIGNED_UP, row, activity, place)
    metrics.SIGNUPS.labels(status).inc()
    return to_signup(row, place)


async def signup_row(conn: Connection, activity_id: uuid.UUID, signup_id: uuid.UUID) -> Any:
    row = await store.get(conn, table="signups", id=signup_id, lock=True)
    if row is None or row["activity_id"] != activity_id:
        raise problems.not_found("报名")
    return row


async def cancel_signup(pool: Pool, *, compound_id: uuid.UUID, activity_id: uuid.UUID,
                        signup_id: uuid.UUID, who: Principal) -> Signup:
    """Cancel a place (or a place in the queue); a freed place goes to the first waiting."""
    async with transaction(pool) as conn:
        activity = await activity_row(conn, compound_id, activity_id, lock=True)
        row = await signup_row(conn, activity_id, signup_id)
        if row["person_id"] != who.person_id and not is_staff(who):
            raise problems.forbidden("只能取消自己的报名")
        if row["status"] == "cancelled":
            raise problems.conflict("该报名已取消", "illegal-transition")
        if activity["starts_at"] <= now_utc():
            raise problems.conflict("活动已经开始，不能取消报名", "illegal-transition")
        was = row["status"]
        row = await _cancel(conn, row, activity, was, "本人取消")
    metrics.SIGNUPS.labels("cancelled").inc()
    return to_signup(row)


async def _cancel(conn: Connection, row: Any, activity: Any, was: str, reason: str) -> Any:
    """Cancel a sign-up (activity and sign-up locked); a freed place goes to the first person
    waiting, who must confirm when the start is near."""
    now = now_utc()
    row = await store.update(conn, table="signups", id=row["id"],
                             fields={"status": "cancelled", "cancelled_at": now,
                                     "confirm_by": None})
    await _signup_event(conn, events.SIGNUP_CANCELLED, row, activity, reason=reason)
    if was != "confirmed" or activity["status"] != "open":
        return row
    promoted = await st.promote_first(conn, activity_id=activity["id"], now=now,
                                      confirm_by=rules.confirm_by(now, activity["starts_at"]))
    if promoted is not None:
        await _signup_event(conn, events.WAITLIST_PROMOTED, promoted, activity)
        metrics.PROMOTIONS.inc()
    return row


async def confirm(pool: Pool, *, compound_id: uuid.UUID, activity_id: uuid.UUID,
                  signup_id: uuid.UUID, who: Principal) -> Signup:
    """A person promoted near the start confirms they will come (repeating it changes nothing)."""
    async with transaction(pool) as conn:
        activity = await activity_row(conn, compound_id, activity_id, lock=True)
        row = await signup_row(conn, activity_id, signup_id)
        if row["person_id"] != who.person_id and not is_staff(who):
            raise problems.forbidden("只能确认自己的报名")
        if row["status"] != "confirmed":
            raise problems.conflict("该报名已取消或仍在候补，无须确认", "illegal-transition")
        if row["confirm_by"] is None:
            return to_signup(row)
        if row["confirm_by"] <= now_utc():
            raise problems.conflict("已超过确认期限，名额已顺延", "confirmation-expired")
        row = await store.update(conn, table="signups", id=signup_id, fields={"confirm_by": None})
        await _signup_event(conn, events.SIGNUP_CONFIRMED, row, activity)
    return to_signup(row)


async def release_unconfirmed(pool: Pool, *, limit: int = 100) -> int:
    """Pass on each place whose late promotion was not confirmed in time. Candidates are read
    without locks, then each is re-checked under the activity lock (the lock order of every
    sign-up change), so two replicas release a place once and never deadlock."""
    async with pool.acquire() as conn:
        candidates = await st.unconfirmed(conn, now=now_utc(), limit=limit)
    released = 0
    for candidate in candidates:
        async with transaction(pool) as conn:
            activity = await st.lock_activity(conn, id=candidate["activity_id"])
            row = await store.get(conn, table="signups", id=candidate["id"], lock=True)
            if row["status"] != "confirmed" or row["confirm_by"] is None \
                    or row["confirm_by"] > now_utc():
                continue
            await _cancel(conn, row, activity, "confirmed", "递补后未在期限内确认")
            released += 1
    metrics.SIGNUPS.labels("unconfirmed").inc(released)
    return released


async def list_signups(pool: Pool, *, compound_id: uuid.UUID, activity_id: uuid.UUID,
                       who: Principal, query: PageQuery) -> Page[Signup]:
    """Staff see everyone signed up; others see only their own. A page: the signed-up first,
    then the waiting list in its order."""
    after = keyset(query.cursor, str, int)
    mine = None if is_staff(who) else (who.person_id or "")
    async with pool.acquire() as conn:
        await activity_row(conn, compound_id, activity_id)
        rows = await st.list_signups(conn, activity_id=activity_id, person_id=mine,
                                     after=(after[0], after[1]) if after else None,
                                     limit=query.limit + 1)
    page = page_of(rows, query.limit, lambda r: [r["status"], r["seq"]])
    return Page(items=[to_signup(r) for r in page.items], next_cursor=page.next_cursor)


async def check_in(pool: Pool, *, compound_id: uuid.UUID, activity_id: uuid.UUID,
                   who: Principal, data: CheckInIn) -> Signup:
    """At the door: staff check in a sign-up by id, a person checks in with their code."""
    async with transaction(pool) as conn:
        activity = await activity_row(conn, compound_id, activity_id, lock=True)
        if data.signup_id is not None:
            if not is_staff(who):
                raise problems.forbidden("按报名编号签到须由工作人员办理，本人请出示签到码")
            row = await signup_row(conn, activity_id, data.signup_id)
        elif data.code:
            row = await st.signup_by_code(conn, activity_id=activity_id, code=data.code)
            if row is None:
                raise problems.validation("签到码不正确", field="code")
        else:
            raise problems.validation("请给出签到码 code 或报名编号 signup_id", field="code")
        now = now_utc()
        if activity["status"] != "open":
            raise problems.conflict("活动已取消或已结束", "activity-closed")
        if not activity["starts_at"] - CHECK_IN_EARLY <= now < activity["ends_at"]:
            raise problems.conflict("不在签到时间内（活动开始前一小时至结束）", "check-in-closed")
        if row["status"] != "confirmed":
            raise problems.conflict("只有报名成功的人可以签到（候补中的请等待递补）", "not-confirmed")
        if row["checked_in_at"] is not None:
            return to_signup(row)  # a second scan at the door changes nothing
        row = await store.update(conn, table="signups", id=row["id"],
                                 fields={"checked_in_at": now, "checked_in_by": who.subject})
        await _signup_event(conn, events.SIGNUP_CHECKED_IN, row, activity)
    metrics.SIGNUPS.labels("checked_in").inc()
    return to_signup(row)


async def feedback(pool: Pool, *, compound_id: uuid.UUID, activity_id: uuid.UUID,
                   signup_id: uuid.UUID, who: Principal, score: int) -> Signup:
    async with transaction(pool) as conn:
        await activity_row(conn, compound_id, activity_id)
        row = await signup_row(conn, activity_id, signup_id)
        if row["person_id"] != who.person_id:
            raise problems.forbidden("只能评价自己参加的活动")
        if row["checked_in_at"] is None:
            raise problems.conflict("签到参加后才能评价", "not-attended")
        row = await store.update(conn, table="signups", id=signup_id, fields={"feedback": score})
    return to_signup(row)
