"""The lending library (图书角): catalogue, loans with due dates, one renewal unless someone
holds the book, returns, lost copies, a holds queue (a returned copy is kept for the first
hold) and the overdue sweep. Every change to one title takes the book row lock first."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import msgspec

from linli import problems
from linli.auth import Principal
from linli.bus import emit
from linli.db import Connection, Pool, transaction
from linli.directory import Directory
from linli.pagination import Page, PageQuery, keyset, page_of, time_cursor, time_keyset
from linli.values import now_utc
from services.centre import events, metrics, rules, store
from services.centre import library_store as st
from services.centre.models import Book, BookIn, BookQuery, Hold, HoldIn, Loan, LoanIn, MyLibrary
from services.centre.service import is_staff, named_person

SWEEP_BATCH = 200


def to_book(row: Any) -> Book:
    data = dict(row)
    data.setdefault("on_loan", 0)
    data.setdefault("holds", 0)
    data["available"] = max(0, data["copies"] - data["on_loan"] - data.pop("ready", 0))
    return msgspec.convert(data, Book)


def to_loan(row: Any) -> Loan:
    return msgspec.convert(dict(row), Loan)


def to_hold(row: Any, position: int | None = None) -> Hold:
    data = dict(row)
    data.setdefault("position", position)
    return msgspec.convert(data, Hold)


async def _loan_event(conn: Connection, kind: Any, loan: Any, title: str, by: str) -> None:
    await emit(conn, kind, subject=str(loan["id"]), compound_id=str(loan["compound_id"]),
               data=events.LoanEvent(loan_id=loan["id"], book_id=loan["book_id"],
                                     compound_id=loan["compound_id"], person_id=loan["person_id"],
                                     title=title, due_on=loan["due_on"], status=loan["status"],
                                     by=by))


async def _hold_event(conn: Connection, kind: Any, hold: Any, title: str) -> None:
    await emit(conn, kind, subject=str(hold["id"]), compound_id=str(hold["compound_id"]),
               data=events.HoldEvent(hold_id=hold["id"], book_id=hold["book_id"],
                                     compound_id=hold["compound_id"], person_id=hold["person_id"],
                                     title=title, status=hold["status"]))


async def book_row(conn: Connection, compound_id: uuid.UUID, book_id: uuid.UUID,
                   *, field: str | None = None) -> Any:
    row = await st.lock_book(conn, id=book_id)
    if row is None or row["compound_id"] != compound_id:
        if field:
            raise problems.validation("本小区图书角没有这本书", field=field)
        raise problems.not_found("图书")
    return row


async def add_book(pool: Pool, *, compound_id: uuid.UUID, data: BookIn) -> Book:
    async with transaction(pool) as conn:
        row = await store.insert(conn, table="books", fields={
            "id": uuid.uuid4(), "compound_id": compound_id, "title": data.title,
            "author": data.author, "isbn": data.isbn, "copies": data.copies,
            "donated_by": data.donated_by}, tail="ON CONFLICT DO NOTHING RETURNING *")
    if row is None:
        raise problems.conflict("图书角已有这个 ISBN 的书，请增加册数", "duplicate-book")
    return to_book(row)


async def get_book(pool: Pool, *, compound_id: uuid.UUID, book_id: uuid.UUID) -> Book:
    async with pool.acquire() as conn:
        row = await st.book(conn, id=book_id)
    if row is None or row["compound_id"] != compound_id:
        raise problems.not_found("图书")
    return to_book(row)


async def list_books(pool: Pool, *, compound_id: uuid.UUID, query: BookQuery) -> Page[Book]:
    async with pool.acquire() as conn:
        rows = await st.list_books(conn, compound_id=compound_id, q=query.q,
                                   after=time_keyset(query.cursor), limit=query.limit + 1)
    return page_of([to_book(r) for r in rows], query.limit, time_cursor)


async def lend(pool: Pool, directory: Directory, *, compound_id: uuid.UUID, who: Principal,
               data: LoanIn) -> Loan:
    """Lend a copy: one that is neither on loan nor kept for someone else's hold."""
    reader = await named_person(directory, compound_id, who, data.person_id)
    async with transaction(pool) as conn:
        book = await book_row(conn, compound_id, data.book_id, field="book_id")
        hold = await st.live_hold(conn, book_id=book["id"], person_id=reader)
        on_loan, ready = await st.stock(conn, book_id=book["id"])
        mine = 1 if hold is not None and hold["status"] == "ready" else 0
        if book["copies"] - on_loan - (ready - mine) <= 0:
            metrics.LOANS.labels("refused").inc()
            raise problems.conflict(f"《{book['title']}》已全部借出，可以预约", "no-copy-available")
        try:
            async with conn.transaction():
                loan = await store.insert(conn, table="loans", fields={
                    "id": uuid.uuid4(), "book_id": book["id"], "compound_id": compound_id,
                    "person_id": reader, "lent_by": who.subject,
                    "due_on": rules.due_on(now_utc()), "status": "active"})
        except asyncpg.UniqueViolationError:
            raise problems.conflict(f"你已借了《{book['title']}》，尚未归还", "already-on-loan") \
                from None
        if hold is not None:
            await store.update(conn, table="holds", id=hold["id"], fields={"status": "fulfilled"})
        await _loan_event(conn, events.LOAN_CREATED, loan, book["title"], who.subject)
    metrics.LOANS.labels("lent").inc()
    return to_loan(loan)


async def _loan_for(conn: Connection, compound_id: uuid.UUID, loan_id: uuid.UUID,
                    who: Principal, *, staff_only: bool = False) -> tuple[Any, Any]:
    """(book locked, loan locked), in that order (the lock order every use case follows)."""
    loan = await store.get(conn, table="loans", id=loan_id)
    if loan is None or loan["compound_id"] != compound_id:
        raise problems.not_found("借阅")
    if not is_staff(who) and (staff_only or loan["person_id"] != who.person_id):
        raise problems.forbidden("只有借阅人本人或图书角工作人员可以这样做")
    book = await st.lock_book(conn, id=loan["book_id"])
    loan = await store.get(conn, table="loans", id=loan_id, lock=True)
    if loan["status"] != "active":
        raise problems.conflict("这笔借阅已归还或已登记遗失", "illegal-transition")
    return book, loan


async def give_back(pool: Pool, *, compound_id: uuid.UUID, loan_id: uuid.UUID,
                    who: Principal) -> Loan:
    """Return a copy; when someone holds the title, the copy is kept for the first of them."""
    async with transaction(pool) as conn:
        book, loan = await _loan_for(conn, compound_id, loan_id, who)
        loan = await store.update(conn, table="loans", id=loan_id,
                                  fields={"status": "returned", "returned_at": now_utc()})
        await _loan_event(conn, events.LOAN_RETURNED, loan, book["title"], who.subject)
        hold = await st.ready_first(conn, book_id=book["id"])
        if hold is not None:
            await _hold_event(conn, events.HOLD_READY, hold, book["title"])
    metrics.LOANS.labels("returned").inc()
    return to_loan(loan)


async def renew(pool: Pool, *, compound_id: uuid.UUID, loan_id: uuid.UUID,
                who: Principal) -> Loan:
    async with transaction(pool) as conn:
        book, loan = await _loan_for(conn, compound_id, loan_id, who)
        if loan["renewed"]:
            raise problems.conflict("每笔借阅只能续借一次", "already-renewed")
        if await st.waiting_holds(conn, book_id=book["id"]):
            raise problems.conflict(f"《{book['title']}》有人预约，不能续借", "held-by-others")
        today = now_utc().astimezone(rules.LOCAL).date()
        loan = await store.update(conn, table="loans", id=loan_id, fields={
            "renewed": True, "due_on": rules.renewed_due(loan["due_on"], today),
            "overdue_notified_at": None, "due_reminded_at": None})
        await _loan_event(conn, events.LOAN_RENEWED, loan, book["title"], who.subject)
    metrics.LOANS.labels("renewed").inc()
    return to_loan(loan)


async def lost(pool: Pool, *, compound_id: uuid.UUID, loan_id: uuid.UUID,
               who: Principal) -> Loan:
    """The copy is lost: the loan ends and the title has one copy fewer."""
    async with transaction(pool) as conn:
        book, loan = await _loan_for(conn, compound_id, loan_id, who, staff_only=True)
        loan = await store.update(conn, table="loans", id=loan_id, fields={"status": "lost"})
        await store.update(conn, table="books", id=book["id"],
                           fields={"copies": max(0, book["copies"] - 1)})
        await _loan_event(conn, events.LOAN_LOST, loan, book["title"], who.subject)
    metrics.LOANS.labels("lost").inc()
    return to_loan(loan)


async def place_hold(pool: Pool, directory: Directory, *, compound_id: uuid.UUID,
                     who: Principal, data: HoldIn) -> Hold:
    """Join the queue of a title with no copy free (a free copy is simply borrowed)."""
    reader = await named_person(directory, compound_id, who, data.person_id)
    async with transaction(pool) as conn:
        book = await book_row(conn, compound_id, data.book_id, field="book_id")
        on_loan, ready = await st.stock(conn, book_id=book["id"])
        if book["copies"] - on_loan - ready > 0:
            raise problems.conflict(f"《{book['title']}》现在有书可借，无须预约", "copy-available")
        try:
            async with conn.transaction():
                hold = await store.insert(conn, table="holds", fields={
                    "id": uuid.uuid4(), "book_id": book["id"], "compound_id": compound_id,
                    "person_id": reader, "status": "waiting"})
        except asyncpg.UniqueViolationError:
            raise problems.conflict("你已经预约了这本书", "already-held") from None
        place = await st.hold_position(conn, book_id=book["id"], seq=hold["seq"])
        await _hold_event(conn, events.HOLD_PLACED, hold, book["title"])
    return to_hold(hold, place)


async def cancel_hold(pool: Pool, *, compound_id: uuid.UUID, hold_id: uuid.UUID,
                      who: Principal) -> Hold:
    """Cancel a hold; a copy kept for it passes to the next in the queue."""
    async with transaction(pool) as conn:
        hold = await store.get(conn, table="holds", id=hold_id)
        if hold is None or hold["compound_id"] != compound_id:
            raise problems.not_found("预约")
        if hold["person_id"] != who.person_id and not is_staff(who):
            raise problems.forbidden("只能取消自己的预约")
        book = await st.lock_book(conn, id=hold["book_id"])
        hold = await store.get(conn, table="holds", id=hold_id, lock=True)
        if hold["status"] not in ("waiting", "ready"):
            raise problems.conflict("该预约已结束", "illegal-transition")
        was = hold["status"]
        hold = await store.update(conn, table="holds", id=hold_id, fields={"status": "cancelled"})
        if was == "ready":
            following = await st.ready_first(conn, book_id=book["id"])
            if following is not None:
                await _hold_event(conn, events.HOLD_READY, following, book["title"])
    return to_hold(hold)


async def my_library(pool: Pool, *, compound_id: uuid.UUID, who: Principal) -> MyLibrary:
    async with pool.acquire() as conn:
        loans = await st.reader_loans(conn, compound_id=compound_id, person_id=who.person_id)
        holds = await st.reader_holds(conn, compound_id=compound_id, person_id=who.person_id)
    return MyLibrary(loans=[to_loan(r) for r in loans], holds=[to_hold(r) for r in holds])


async def on_loan(pool: Pool, *, compound_id: uuid.UUID, query: PageQuery) -> Page[Loan]:
    """The books out now, for the desk: due soonest first, so the overdue ones lead."""
    after = keyset(query.cursor, dt.date.fromisoformat, uuid.UUID)
    async with pool.acquire() as conn:
        rows = await st.on_loan(conn, compound_id=compound_id,
                                after=(after[0], after[1]) if after else None,
                                limit=query.limit + 1)
    return page_of([to_loan(r) for r in rows], query.limit,
                   lambda loan: [loan.due_on.isoformat(), str(loan.id)])


async def sweep_overdue(pool: Pool) -> int:
    """Report each loan past its due day once (loan.overdue); replicas never claim the same
    loan, and a renewed loan that falls due again is reported again."""
    today = now_utc().astimezone(rules.LOCAL).date()
    async with transaction(pool) as conn:
        rows = await st.claim_overdue(conn, today=today, limit=SWEEP_BATCH)
        for row in rows:
            loan = await store.update(conn, table="loans", id=row["id"],
                                      fields={"overdue_notified_at": now_utc()})
            await _loan_event(conn, events.LOAN_OVERDUE, loan, row["title"], "system:centre")
    metrics.LOANS.labels("overdue").inc(len(rows))
    return len(rows)


async def remind_due(pool: Pool) -> int:
    """Remind each loan once a couple of days before it falls due (loan.due)."""
    today = now_utc().astimezone(rules.LOCAL).date()
    until = today + dt.timedelta(days=rules.DUE_REMINDER_DAYS)
    async with transaction(pool) as conn:
        rows = await st.claim_due_soon(conn, today=today, until=until, limit=SWEEP_BATCH)
        for row in rows:
            loan = await store.update(conn, table="loans", id=row["id"],
                                      fields={"due_reminded_at": now_utc()})
            await _loan_event(conn, events.LOAN_DUE, loan, row["title"], "system:centre")
    metrics.LOANS.labels("due_reminded").inc(len(rows))
    return len(rows)
