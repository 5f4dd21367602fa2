"""The issues part of bench_growth: one compound's list of issues at each size, its first page and
a page deep in the list timed over HTTP (wrk, the service as its own `linli serve` process), and
the page query of services/issues/store.py under EXPLAIN (ANALYZE, BUFFERS)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from typing import Any

import aiohttp
import asyncpg

from bench import harness
from linli import db
from linli.auth import issue_token
from linli.config import DEV_SECRET
from linli.pagination import DEFAULT_LIMIT, encode_cursor
from linli.stack import free_port
from services.issues import rules, service, store

BACKGROUND = 20  # other compounds; one issue in five is theirs, interleaved in time and on disk
CHUNK = 250_000  # numbers generated per INSERT statement
BASE_TIME = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
RESIDENT = "bench-resident-frequent"  # reported one issue in 100, all of the compound

# One INSERT … SELECT … generate_series: the issues of numbers [$3, $4) (four in five of the
# compound $1, the fifth of one of the compounds $2, an issue every 30 s since 2015), each with
# its `reported` history row and, when resolved, its `resolved` one: the rows a real compound
# has. The open ones are long past their targets, so they were reported overdue long ago (as the
# sweep does): else the service's sweep would be marking 375,000 of them while the pages are timed.
FILL = """
WITH made AS (
  INSERT INTO issues (id, compound_id, category, title, description, area, reporter_id,
                      reported_by, channel, responsible, status, created_at, updated_at,
                      respond_by, resolve_by, first_response_at, resolved_at, overdue_at)
  SELECT gen_random_uuid(),
         CASE WHEN g % 5 = 4 THEN ($2::uuid[])[1 + (g / 5) % cardinality($2::uuid[])]
              ELSE $1::uuid END,
         ($5::text[])[k], '楼道灯不亮 ' || g, '1号楼3单元5楼楼道灯不亮，晚上上下楼看不见。编号 ' || g,
         'corridor', r.person, r.person, 'app',
         ($6::text[])[k], ($9::text[])[1 + g % 8], t, t,
         t + ($7::int[])[k] * interval '1 hour', t + ($8::int[])[k] * interval '1 hour',
         CASE WHEN g % 8 <> 5 THEN t + interval '3 hours' END,
         CASE WHEN g % 8 < 4 THEN t + interval '2 days' END,
         CASE WHEN g % 8 >= 5 THEN t + ($8::int[])[k] * interval '1 hour' END
  FROM generate_series($3::bigint, $4::bigint - 1) g,
       LATERAL (SELECT $10::timestamptz + g * interval '30 seconds' AS t,
                       1 + (g / 7 % cardinality($5::text[]))::int AS k) x,
       LATERAL (SELECT CASE WHEN g % 100 = 7 THEN 'bench-resident-frequent'
                            ELSE 'bench-resident-' || g % 3000 END AS person) r
  RETURNING id, reported_by, created_at, resolved_at, status, overdue_at),
reported AS (
  INSERT INTO history (issue_id, action, from_status, to_status, actor, created_at)
  SELECT id, 'reported', NULL, 'submitted', reported_by, created_at FROM made),
overdue AS (
  INSERT INTO history (issue_id, action, from_status, to_status, actor, note, created_at)
  SELECT id, 'overdue', status, status, NULL, '超过处理时限', overdue_at FROM made
  WHERE overdue_at IS NOT NULL)
INSERT INTO history (issue_id, action, from_status, to_status, actor, created_at)
SELECT id, 'resolved', 'in_progress', 'resolved', 'property', resolved_at FROM made
WHERE resolved_at IS NOT NULL
"""
STATUSES = ["resolved", "resolved", "resolved", "resolved", "rejected", "submitted", "accepted",
            "in_progress"]  # by g % 8; first_response_at and resolved_at above follow it


async def fill(conn: asyncpg.Connection, compound: uuid.UUID, others: list[uuid.UUID],
               start: int, stop: int) -> None:
    """Numbers [start, stop): (stop - start) * 4/5 issues of the compound (start, stop: × 5)."""
    cats = rules.DEFAULT_CATEGORIES
    for low in range(start, stop, CHUNK):
        await conn.execute(FILL, compound, others, low, min(stop, low + CHUNK),
                           [c[0] for c in cats], [c[2] for c in cats], [c[3] for c in cats],
                           [c[4] for c in cats], STATUSES, BASE_TIME)
    await conn.execute("VACUUM ANALYZE issues")
    await conn.execute("VACUUM ANALYZE history")


# ---------------------------------------------------------------- the plan of the page query


class Captured:
    """Stands in for the connection: keeps the SQL and arguments store.list_issues sends."""

    sql = ""
    args: tuple[Any, ...] = ()

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        self.sql, self.args = sql, args
        return []


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool | int):
        return str(value).lower() if isinstance(value, bool) else str(value)
    text = value.isoformat() if isinstance(value, dt.datetime) else str(value)
    return "'" + text.replace("'", "''") + "'"


def nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's nodes, outermost first: type, index, condition, rows, rows filtered out."""
    found = [{"node": plan["Node Type"], "index": plan.get("Index Name"),
              "index_cond": plan.get("Index Cond"), "filter": plan.get("Filter"),
              "rows": plan.get("Actual Rows"),
              "rows_removed_by_filter": plan.get("Rows Removed by Filter", 0)}]
    for child in plan.get("Plans", []):
        found += nodes(child)
    return [{k: v for k, v in n.items() if v is not None} for n in found]


async def explain(conn: asyncpg.Connection, compound: uuid.UUID,
                  after: tuple[dt.datetime, uuid.UUID] | None,
                  reporter: str | None = None) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, BUFFERS) of the page query the service runs for this page (the SQL and
    arguments from store.list_issues, as service.list_issues calls it), as the custom plan of
    its first executions and as the generic plan a prepared statement may settle on."""
    captured = Captured()
    await store.list_issues(captured, compound_id=compound, status=None,
                            category=None, after=after, limit=DEFAULT_LIMIT + 1, reporter=reporter,
                            responsible=None, overdue=None, now=dt.datetime.now(dt.UTC), text=None)
    await conn.execute(f"PREPARE growth_page AS {captured.sql}")
    plans = {}
    try:
        run = f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE growth_page" \
              f"({', '.join(literal(a) for a in captured.args)})"
        for mode in ("custom", "generic"):
            await conn.execute(f"SET plan_cache_mode = force_{mode}_plan")
            await conn.fetchval(run)  # once to read the pages in: the plan of a warm cache
            top = json.loads(await conn.fetchval(run))[0]
            found = nodes(top["Plan"])
            plans[mode] = {
                "nodes": found, "node_types": [n["node"] for n in found],
                "rows_read": max(n.get("rows", 0) + n["rows_removed_by_filter"] for n in found
                                 if "Scan" in n["node"]),
                "shared_buffers": top["Plan"].get("Shared Hit Blocks", 0)
                + top["Plan"].get("Shared Read Blocks", 0),
                "execution_ms": round(top["Execution Time"], 3)}
    finally:
        await conn.execute("RESET plan_cache_mode")
        await conn.execute("DEALLOCATE growth_page")
    return {**plans, "prepared_statement": await settled(conn, captured)}


async def settled(conn: asyncpg.Connection, captured: Captured) -> dict[str, Any]:
    """The plans PostgreSQL chose (plan_cache_mode auto) for the statement prepared as the
    service's asyncpg prepares it, after ten executions: custom, or the generic one above."""
    for _ in range(10):
        await conn.fetch(captured.sql, *captured.args)
    row = await conn.fetchrow("SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                              " WHERE statement = $1", captured.sql)
    return {"generic_plans": row["generic_plans"], "custom_plans": row["custom_plans"]}


def on_index(plans: dict[str, Any]) -> bool:
    """Both plans read the page from an index: no Seq Scan, and no scan reads more rows than a
    page and its look-ahead row (so no Sort sorts more than those: a plan may sort the 25
    issues of a small "mine" list, never the compound's)."""
    return all("Seq Scan" not in plans[mode]["node_types"]
               and plans[mode]["rows_read"] <= DEFAULT_LIMIT + 1 for mode in ("custom", "generic"))


# ---------------------------------------------------------------- the pages over HTTP


async def timed(stack: Any, pid: int, url: str, auth: str, seconds: float) -> dict[str, Any]:
    """wrk GETs of one page for `seconds` on one connection: p50/p99, CPU and round trips."""
    await harness.statements_reset(stack.database_url)
    cpu = harness.cpu_ms(pid)
    result = await asyncio.to_thread(harness.wrk, url, body=None, auth=[auth], seconds=seconds,
                                     connections=1, method="GET")
    cpu = harness.cpu_ms(pid) - cpu
    found = await harness.statements(stack.database_url)
    page = await harness.rows(  # what the page query itself cost PostgreSQL, per execution
        stack.database_url,
        "SELECT calls, mean_exec_time, (shared_blks_hit + shared_blks_read) / calls AS buffers"
        " FROM pg_stat_statements WHERE query LIKE 'SELECT * FROM issues WHERE compound_id%'"
        " ORDER BY calls DESC LIMIT 1")
    return {**result, "service_cpu_ms_per_request": round(cpu / max(result["requests"], 1), 3),
            "page_query_postgres_ms": round(page[0]["mean_exec_time"], 3) if page else None,
            "page_query_buffers": int(page[0]["buffers"]) if page else None,
            **harness.per_request(found, result["requests"], top=5)}


async def deep_cursor(session: aiohttp.ClientSession, conn: asyncpg.Connection, list_url: str,
                      auth: str, compound: uuid.UUID, depth: int) -> str:
    """The service's own next_cursor of the page that starts `depth` issues down the list
    (reached from the keyset of the issue just above it, checked against the database)."""
    above = await conn.fetch(
        "SELECT id, created_at FROM issues WHERE compound_id = $1"
        " ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 2", compound, depth - 1)
    cursor = encode_cursor([above[0]["created_at"].isoformat(), str(above[0]["id"])])
    async with session.get(list_url, params={"cursor": cursor},
                           headers={"Authorization": auth}) as answer:
        page = await answer.json()
    assert answer.status == 200, page
    assert page["items"][0]["id"] == str(above[1]["id"]), "the page does not start where it should"
    return str(page["next_cursor"])


def bearer(person: str, compound: uuid.UUID) -> str:
    return "Bearer " + issue_token(DEV_SECRET, subject=person, roles=["resident"],
                                   compounds=[str(compound)])


async def measure(stack: Any, issues: harness.Process, conn: asyncpg.Connection,
                  compound: uuid.UUID, size: int, seconds: float) -> dict[str, Any]:
    """The first page, the page half way down, and a resident's own issues ("mine", the first
    page; the one resident who reported one issue in 100): timed over HTTP, queries explained."""
    auth = bearer(str(uuid.uuid4()), compound)
    list_url = f"{issues.url}/v1/compounds/{compound}/issues"
    async with aiohttp.ClientSession() as session:
        cursor = await deep_cursor(session, conn, list_url, auth, compound, size // 2)
    deep_url = f"{list_url}?cursor={cursor}"
    await asyncio.to_thread(harness.wrk, deep_url, body=None, auth=[auth], seconds=1,
                            connections=1, method="GET")  # warm up: plans cached, pages read in
    first = await timed(stack, issues.pid, list_url, auth, seconds)
    deep = await timed(stack, issues.pid, deep_url, auth, seconds)
    mine = await timed(stack, issues.pid, f"{list_url}?mine=true", bearer(RESIDENT, compound),
                       seconds)
    keyset = await conn.fetchrow(
        "SELECT created_at, id FROM issues WHERE compound_id = $1"
        " ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1", compound, size // 2 + DEFAULT_LIMIT - 1)
    plans = {"first_page": await explain(conn, compound, None),
             "deep_page": await explain(conn, compound, (keyset["created_at"], keyset["id"])),
             "my_issues": await explain(conn, compound, None, RESIDENT)}
    return {"compound_issues": size, "deep_page_starts_at": size // 2 + DEFAULT_LIMIT,
            "first_page": first, "deep_page": deep, "my_issues": mine, "plans": plans,
            "plans_on_index": all(on_index(p) for p in plans.values())}


async def run(sizes: list[int], seconds: float) -> dict[str, Any]:
    """Fill to each size in turn (the compound's issues; a quarter more as background) and
    measure its pages; the ratio of the largest size's page p50 to the first's."""
    with harness.embedded() as stack:
        procs = harness.Processes()
        try:
            port = free_port()
            issues = procs.serve("issues", harness.service_env(stack, {"issues": port}), port)
            compound, others = uuid.uuid4(), [uuid.uuid4() for _ in range(BACKGROUND)]
            pool = await db.create_pool(stack.database_url, schema="issues")
            for cid in (compound, *others):
                await service.seed_defaults(pool, compound_id=cid)
            await pool.close()
            conn = await asyncpg.connect(stack.database_url,
                                         server_settings={"search_path": "issues,public"})
            steps, done = [], 0
            for size in sizes:
                started = time.perf_counter()
                await fill(conn, compound, others, done * 5 // 4, size * 5 // 4)
                filled = round(time.perf_counter() - started, 1)
                done = size
                steps.append({**await measure(stack, issues, conn, compound, size, seconds),
                              "fill_seconds": filled,
                              "all_issues": await conn.fetchval("SELECT count(*) FROM issues"),
                              "history_rows": await conn.fetchval("SELECT count(*) FROM history")})
            await conn.close()
        finally:
            procs.stop()
    return {"sizes": sizes, **summary(steps), "steps": steps}


def summary(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Each page kind's p50 (and PostgreSQL's time for its query) at the smallest and the
    largest size, and their ratio (the target: about 1)."""
    small, large = steps[0], steps[-1]
    found: dict[str, Any] = {}
    for kind in ("first_page", "deep_page", "my_issues"):
        for figure, key in (("p50_ms", "latency_p50_ms"), ("postgres_ms", "page_query_postgres_ms")):
            found[f"{kind}_{figure}_smallest"] = small[kind][key]
            found[f"{kind}_{figure}_largest"] = large[kind][key]
        found[f"{kind}_p50_ratio"] = round(large[kind]["latency_p50_ms"]
                                           / small[kind]["latency_p50_ms"], 3)
    found["plans_on_index"] = all(s["plans_on_index"] for s in steps)
    return found
