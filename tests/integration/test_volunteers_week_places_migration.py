"""Migration 0004 counts the orders that already exist: a database migrated before it gets
week rows equal to each week's orders that are not cancelled."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from linli import db
from linli.config import Settings
from services.volunteers.app import MIGRATIONS
from tests.scratch_bus import fresh

ORDER = ("INSERT INTO orders (id, compound_id, item_id, skill, resident_id, ordered_by, unit_id,"
         " window_start, window_end, week_start, status) VALUES (gen_random_uuid(), $1, $2,"
         " 'errands', 'p', 'p', gen_random_uuid(), $3::text::date, $3::text::date + 1,"
         " $3::text::date, $4)")


async def test_the_migration_backfills_each_weeks_places(settings: Settings,
                                                         tmp_path: Path) -> None:
    for name in ("0001_volunteers.sql", "0002_stale_orders.sql", "0003_list_pages.sql"):
        shutil.copy(MIGRATIONS / name, tmp_path / name)
    schema = fresh("vw_")
    pool = await db.create_pool(settings.database_url, schema=schema)
    try:
        async with pool.acquire() as conn:
            await db.migrate(conn, schema=schema, migrations=tmp_path)
        cid, items = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
        await pool.execute("INSERT INTO skills (compound_id, code, name) VALUES ($1, 'errands',"
                           " '代购代办')", cid)
        for item in items:
            await pool.execute(
                "INSERT INTO menu_items (id, compound_id, title, skill, duration_minutes,"
                " capacity_per_week, published_by, status) VALUES ($1, $2, '代买菜', 'errands',"
                " 30, 10, 'p', 'published')", item, cid)
        mix = [(items[0], "2026-12-07", "ordered"), (items[0], "2026-12-07", "cancelled"),
               (items[0], "2026-12-07", "ordered"), (items[0], "2026-12-14", "cancelled"),
               (items[1], "2026-12-07", "ordered")]
        for item, week, status in mix:
            await pool.execute(ORDER, cid, item, week, status)
        async with pool.acquire() as conn:
            assert await db.migrate(conn, schema=schema, migrations=MIGRATIONS) == [
                "0004_week_places.sql"]
        rows = await pool.fetch("SELECT item_id, week_start::text, placed FROM week_places")
        assert sorted((r["item_id"], r["week_start"], r["placed"]) for r in rows) == sorted([
            (items[0], "2026-12-07", 2), (items[1], "2026-12-07", 1)])
    finally:
        await pool.execute(f"DROP SCHEMA {schema} CASCADE")
        await pool.close()
