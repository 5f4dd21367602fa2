"""A page of the issues in one open status when almost every issue is closed: 1,000,000 issues of
one compound (an issue every 30 s since 2015), 100 of them `submitted` and spread over the years,
the rest closed, as a compound's list looks after years of use (bench_growth spreads the statuses
evenly, so its status pages are dense and do not show this).

Run: `.venv/bin/python -m bench.open_status_pages [--issues N]` (embedded PostgreSQL; prints JSON).
The page query is the one store.list_issues sends, run as a prepared statement after its first
executions (the plan it settles on), on a table with the issues schema's page indexes: before
migration 0004 (issues_compound only, the status a parameter) and after it (issues_open_pages,
the status a literal)."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from bench import harness
from bench.growth_issues import Captured
from services.issues import store

MIGRATION = Path(store.__file__).parent / "migrations" / "0004_open_pages.sql"
TABLE = """CREATE TABLE issues (id uuid PRIMARY KEY, compound_id uuid NOT NULL, status text NOT NULL,
  title text NOT NULL, description text NOT NULL, created_at timestamptz NOT NULL);
CREATE INDEX issues_compound ON issues (compound_id, created_at DESC, id DESC)"""
FILL = """INSERT INTO issues SELECT gen_random_uuid(), $1::uuid,
  CASE WHEN g % ($2::int / 100) = 17 THEN 'submitted' ELSE 'resolved' END,
  '楼道灯不亮 ' || g, '1号楼3单元5楼楼道灯不亮，晚上上下楼看不见。编号 ' || g,
  timestamptz '2015-01-01' + g * interval '30 seconds' FROM generate_series(1, $2::int) g"""


async def page_ms(conn: asyncpg.Connection, sql: str, args: tuple[Any, ...],
                  times: int = 30) -> float:
    """Median milliseconds of the page once the prepared statement settled on its plan."""
    statement = await conn.prepare(sql)
    for _ in range(8):  # past the five custom plans PostgreSQL tries first
        await statement.fetch(*args)
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        await statement.fetch(*args)
        spent.append((time.perf_counter() - started) * 1000)
    return round(sorted(spent)[times // 2], 3)


async def run(dsn: str, issues: int) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        compound = uuid.uuid4()
        await conn.execute(TABLE)
        await conn.execute(FILL, compound, issues)
        await conn.execute("ANALYZE issues")
        before = ("SELECT * FROM issues WHERE compound_id = $1 AND status = $2"
                  " ORDER BY created_at DESC, id DESC LIMIT $3")
        submitted = await conn.fetchval("SELECT count(*) FROM issues WHERE status = 'submitted'")
        found = {"issues": issues, "submitted": submitted,
                 "page_ms_before": await page_ms(conn, before, (compound, "submitted", 21))}
        await conn.execute(MIGRATION.read_text(encoding="utf-8"))
        await conn.execute("ANALYZE issues")
        sent = Captured()
        await store.list_issues(sent, compound_id=compound, status="submitted", category=None,
                                after=None, limit=21)
        found["page_ms_after"] = await page_ms(conn, sent.sql, sent.args)
        found["page_query_after"] = sent.sql
        return found
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--issues", type=int, default=1_000_000)
    args = parser.parse_args()
    with harness.embedded() as stack:
        print(json.dumps(asyncio.run(run(stack.database_url, args.issues)), ensure_ascii=False,
                         indent=2))


if __name__ == "__main__":
    main()
