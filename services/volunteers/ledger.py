"""The service ledger (服务台账): every completed service with its minutes, per-volunteer
totals, per-compound statistics and the CSV the community files."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from linli.db import Pool, transaction
from linli.pagination import Page, page_of, time_keyset
from services.volunteers import ledger_store, rules
from services.volunteers.models import (
    LedgerEntry,
    LedgerQuery,
    LedgerStats,
    SkillStats,
    VolunteerTotals,
)

CSV_HEADER = ["日期", "服务", "技能", "志愿者", "服务对象", "时长(分钟)", "时长(小时)", "评分",
              "来源", "来源编号"]
SOURCES = {"order": "点单", "care_visit": "定期关爱"}


def to_entry(row: Any) -> LedgerEntry:
    return LedgerEntry(
        id=row["id"], volunteer_id=row["volunteer_id"], volunteer_name=row["volunteer_name"],
        source=row["source"], source_id=row["source_id"], skill=row["skill"], title=row["title"],
        person_id=row["person_id"], minutes=row["minutes"], hours=rules.hours(row["minutes"]),
        rating=row["rating"], served_at=row["served_at"])


async def entries(pool: Pool, *, compound_id: uuid.UUID, query: LedgerQuery) -> Page[LedgerEntry]:
    async with pool.acquire() as conn:
        rows = await ledger_store.list_entries(
            conn, compound_id=compound_id, volunteer_id=query.volunteer_id, skill=query.skill,
            after=time_keyset(query.cursor, int), limit=query.limit + 1)
    return page_of([to_entry(r) for r in rows], query.limit,
                   lambda e: [e.served_at.isoformat(), e.id])


def _rating(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


async def stats(pool: Pool, *, compound_id: uuid.UUID) -> LedgerStats:
    async with pool.acquire() as conn:
        total = await ledger_store.summary(conn, compound_id=compound_id)
        skills = await ledger_store.by_skill(conn, compound_id=compound_id)
        people = await ledger_store.by_volunteer(conn, compound_id=compound_id)
        statuses = await ledger_store.orders_by_status(conn, compound_id=compound_id)
        missed = await ledger_store.missed_visits(conn, compound_id=compound_id)
    return LedgerStats(
        compound_id=compound_id, services=total["services"], minutes=total["minutes"],
        hours=rules.hours(total["minutes"]), average_rating=_rating(total["average_rating"]),
        rated=total["rated"], volunteers=total["volunteers"],
        by_skill=[SkillStats(skill=r["skill"], name=r["name"], services=r["services"],
                             minutes=r["minutes"], hours=rules.hours(r["minutes"]))
                  for r in skills],
        by_volunteer=[VolunteerTotals(volunteer_id=r["volunteer_id"], name=r["name"],
                                      services=r["services"], minutes=r["minutes"],
                                      hours=rules.hours(r["minutes"]),
                                      average_rating=_rating(r["average_rating"]))
                      for r in people],
        orders_by_status=statuses, missed_care_visits=missed)


def _cell(text: str) -> str:
    """Text people typed, made inert: a spreadsheet runs a cell starting with = + - @ as a
    formula (CSV injection), so such a cell is prefixed with an apostrophe."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _writer(out: io.StringIO) -> Any:
    return csv.writer(out, lineterminator="\r\n")


def _row(day: str, title: str, skill: str, volunteer: str, person_id: str, minutes: int,
         hours: str, rating: int | None, source: str, source_id: object) -> tuple[object, ...]:
    return (day, _cell(title), _cell(skill), _cell(volunteer), person_id, minutes, hours,
            "" if rating is None else rating, SOURCES[source], source_id)


def csv_text(rows: list[LedgerEntry], skill_names: dict[str, str]) -> str:
    """Ledger entries as the whole CSV file (the BOM, the header, a line each)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = _writer(out)
    writer.writerow(CSV_HEADER)
    writer.writerows(_row(e.served_at.astimezone(rules.LOCAL).strftime("%Y-%m-%d %H:%M"), e.title,
                          skill_names.get(e.skill, e.skill), e.volunteer_name, e.person_id,
                          e.minutes, e.hours, e.rating, e.source, e.source_id) for e in rows)
    return out.getvalue()


class _CrLf:
    """PostgreSQL ends each CSV row with LF; the file has always ended them with CRLF (as
    Python's csv writer does), so the LF ending a row becomes CRLF while an LF inside a quoted
    cell (a title typed on two lines) stays. Outside quotes means an even number of quote
    characters before it: a doubled quote inside a cell counts twice."""

    def __init__(self) -> None:
        self.quoted = False  # whether the previous piece ended inside a quoted cell

    def __call__(self, data: bytes) -> bytes:
        if not self.quoted and b'"' not in data:  # nearly every piece: nothing quoted
            return data.replace(b"\n", b"\r\n")
        parts = data.split(b'"')  # parts[i] lies outside quotes when i is even (odd if quoted)
        for i in range(1 if self.quoted else 0, len(parts), 2):
            parts[i] = parts[i].replace(b"\n", b"\r\n")
        self.quoted ^= len(parts) % 2 == 0  # an odd number of quotes in the piece
        return b'"'.join(parts)


async def export(pool: Pool, *, compound_id: uuid.UUID,
                 write: Callable[[bytes], Awaitable[None]]) -> None:
    """The ledger as CSV (UTF-8 with BOM so spreadsheet software reads the Chinese), newest
    first, handed to `write` as PostgreSQL makes it (COPY): constant memory however long the
    ledger, one snapshot (the transaction) for the whole file. The cells are those of
    csv_text (tests/integration/test_volunteers_ledger.py compares them line for line)."""
    async with transaction(pool) as conn:
        await write(csv_text([], {}).encode("utf-8"))  # the BOM and the header
        crlf = _CrLf()

        async def rows(data: bytes) -> None:
            await write(crlf(data))

        await ledger_store.export_csv(conn, compound_id=compound_id, zone=rules.LOCAL.key,
                                      sources=SOURCES, output=rows)
