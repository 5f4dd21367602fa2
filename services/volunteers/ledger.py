"""The service ledger (服务台账): every completed service with its minutes, per-volunteer
totals, per-compound statistics and the CSV the community files."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from linli.db import Pool
from linli.pagination import Page, page_of, time_keyset
from services.volunteers import ledger_store, rules, store
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


def csv_text(rows: list[LedgerEntry], skill_names: dict[str, str]) -> str:
    """The ledger as CSV (UTF-8 with BOM so spreadsheet software reads the Chinese)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for e in rows:
        writer.writerow([
            e.served_at.astimezone(rules.LOCAL).strftime("%Y-%m-%d %H:%M"), _cell(e.title),
            _cell(skill_names.get(e.skill, e.skill)), _cell(e.volunteer_name), e.person_id,
            e.minutes,
            e.hours, "" if e.rating is None else e.rating, SOURCES[e.source], e.source_id])
    return out.getvalue()


async def export(pool: Pool, *, compound_id: uuid.UUID) -> str:
    async with pool.acquire() as conn:
        rows = await ledger_store.list_entries(conn, compound_id=compound_id, volunteer_id=None,
                                               skill=None, after=None, limit=None)
        names = {r["code"]: r["name"] for r in await store.list_skills(conn,
                                                                       compound_id=compound_id)}
    return csv_text([to_entry(r) for r in rows], names)
