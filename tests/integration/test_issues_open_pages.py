"""A page of the issues in one open status (the desk's new issues) walks the open issues only,
in every plan PostgreSQL may settle on: with almost every issue closed, the compound's whole list
would hold the few open ones (migration 0004_open_pages, store.list_issues)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from linli.http import POOL
from services.issues import store
from tests.integration.test_issues import World, report, world

__all__ = ["world"]  # fixture


class Sent:
    """Stands in for the connection: keeps the SQL and arguments store.list_issues sends."""

    sql = ""
    args: tuple[Any, ...] = ()

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        self.sql, self.args = sql, args
        return []


async def test_a_page_of_new_issues_reads_the_open_issues_only(world: World) -> None:
    new = await report(world, world.person())
    pool = world.issues.app[POOL]
    async with pool.acquire() as conn:  # 20,000 closed issues of the same compound, older
        await conn.execute(
            "INSERT INTO issues (id, compound_id, category, title, description, unit_id, area,"
            " reporter_id, reported_by, channel, responsible, status, created_at, updated_at,"
            " respond_by, resolve_by) SELECT gen_random_uuid(), compound_id, category, title,"
            " description, unit_id, area, reporter_id, reported_by, channel, responsible,"
            " 'resolved', created_at - g * interval '1 minute', updated_at, respond_by,"
            " resolve_by FROM issues, generate_series(1, 20000) g WHERE id = $1",
            uuid.UUID(new["id"]))
        await conn.execute("ANALYZE issues")
        sent = Sent()
        await store.list_issues(sent, compound_id=uuid.UUID(world.cid), status="submitted",
                                category=None, after=None, limit=21)
        async with conn.transaction():  # the plan a prepared statement may settle on
            await conn.execute(f"PREPARE new_issues AS {sent.sql}")
            await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            values = ", ".join(str(a) if isinstance(a, int) else f"'{a}'" for a in sent.args)
            plan = json.dumps(await conn.fetchval(
                f"EXPLAIN (FORMAT JSON) EXECUTE new_issues ({values})"))
            await conn.execute("DEALLOCATE new_issues")
    assert "issues_open_pages" in plan and '"Sort"' not in plan, plan
    page = await world.issues.get(f"{world.base}/issues", params={"status": "submitted"},
                                  headers=world.person("community"))
    assert page.status == 200
    assert [i["id"] for i in (await page.json())["items"]] == [new["id"]]
