"""`linli demo`: the four compounds of the story, loaded twice without a second copy."""

from __future__ import annotations

from linli import db
from linli.cli import load_demo
from linli.config import Settings
from services.directory.demo import COMPOUNDS, demo_id
from services.directory.service import electoral_roll


async def test_demo_loads_the_story_and_is_safe_twice(settings: Settings) -> None:
    assert await load_demo(settings.database_url) == 4
    pool = await db.create_pool(settings.database_url, schema="directory")
    try:
        async def counts() -> tuple[int, ...]:
            async with pool.acquire() as conn:
                return tuple([await conn.fetchval(f"SELECT count(*) FROM {t}") for t in
                              ("compounds", "units", "people", "ownerships", "roles", "outbox")])

        before = await counts()
        assert await load_demo(settings.database_url) == 4
        assert await counts() == before
        sunshine = demo_id("compound", COMPOUNDS[0].name)
        roll = await electoral_roll(pool, compound_id=sunshine)
        kinds = [e.kind for e in roll.entries]
        assert kinds.count("developer") == 1
        assert "co_owners" in kinds
        assert max(len(e.unit_ids) for e in roll.entries if e.kind == "owner") == 3
        assert roll.total_area_centi == sum(e.area_centi for e in roll.entries)
        async with pool.acquire() as conn:
            committee = await conn.fetchval(
                "SELECT count(*) FROM organisations WHERE compound_id = $1 AND kind = 'owners_committee'",
                sunshine)
        assert committee == 0  # 阳光花园 has no owners' committee yet: that is its story
    finally:
        await pool.close()
