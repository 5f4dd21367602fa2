"""`linli demo`: the four compounds of the story, loaded twice without a second copy."""

from __future__ import annotations

from linli import db
from linli.cli import load_demo
from linli.config import Settings
from services.directory.demo import COMPOUNDS, demo_id
from services.directory.service import electoral_roll
from workflows.committee.types import Qualification
from workflows.committee.workflow import qualifies


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
        # 3 buildings × 6 floors × 2 flats = 36: the developer still holds the last building's
        # top floor (one flat unsold, one sold but not delivered), an investor owns 3, five
        # flats are co-owned ((floor + n) % 5 == 0, less one of the investor's), 26 have one
        # owner each: 1 + 1 + 5 + 26 = 33 voters, one head each
        kinds = [e.kind for e in roll.entries]
        assert (kinds.count("developer"), kinds.count("co_owners"), kinds.count("owner")) == (1, 5, 27)
        assert sorted(len(e.unit_ids) for e in roll.entries) == [1] * 31 + [2, 3]
        assert roll.total_headcount == 33
        # the 36 flats' areas as the demo defines them (68–143 m² each), 3601.08 m² in all
        assert roll.total_area_centi == 360108 and roll.total_area == "3601.08"
        async with pool.acquire() as conn:
            committee = await conn.fetchval(
                "SELECT count(*) FROM organisations WHERE compound_id = $1 AND kind = 'owners_committee'",
                sunshine)
        assert committee == 0  # 阳光花园 has no owners' committee yet: that is its story
        # ... and it qualifies to found one from the first `make run` (the founding workflow's
        # default: half of the exclusive area sold and delivered, off the developer's entry)
        delivered = sum(e.area_centi for e in roll.entries if e.kind != "developer")
        assert qualifies(Qualification(roll.total_area_centi, delivered, 0), "1/2")
        assert not qualifies(Qualification(roll.total_area_centi, delivered, 0), "1/1")
    finally:
        await pool.close()


async def test_the_centre_of_sansheng_four_seasons_park_is_loaded_once(
        settings: Settings) -> None:
    await load_demo(settings.database_url)
    pool = await db.create_pool(settings.database_url, schema="centre")
    park = demo_id("compound", "三盛四季公园")
    try:
        async def counts() -> tuple[int, ...]:
            async with pool.acquire() as conn:
                return tuple([await conn.fetchval(f"SELECT count(*) FROM {t}") for t in
                              ("venues", "books", "activities", "signups", "group_members",
                               "loans", "bookings")])

        before = await counts()
        await load_demo(settings.database_url)
        assert await counts() == before
        async with pool.acquire() as conn:
            venues = {r["name"]: r for r in await conn.fetch(
                "SELECT * FROM venues WHERE compound_id = $1", park)}
            assert set(venues) == {"图书角", "篮球场", "活动室"}
            assert "22:00" in venues["篮球场"]["rules"]
            books = await conn.fetchval("SELECT count(*) FROM books WHERE compound_id = $1", park)
            assert 25 <= books <= 35
            plans = await conn.fetch("SELECT audience FROM activity_plans WHERE compound_id = $1"
                                     " AND status = 'published'", park)
            assert {p["audience"] for p in plans} == {"elderly", "families", "young_workers"}
            groups = await conn.fetch(
                "SELECT g.kind, count(m.*) AS n FROM interest_groups g JOIN group_members m"
                " ON m.group_id = g.id WHERE g.compound_id = $1 GROUP BY g.kind", park)
            assert {g["kind"] for g in groups} == {"yoga", "tai_chi", "running"}
            assert all(g["n"] >= 5 for g in groups)
            full = await conn.fetch(
                "SELECT a.title, a.capacity, count(*) FILTER (WHERE s.status = 'confirmed') AS c,"
                " count(*) FILTER (WHERE s.status = 'waiting') AS w FROM activities a"
                " JOIN signups s ON s.activity_id = a.id WHERE a.compound_id = $1"
                " GROUP BY a.id", park)
            assert all(r["c"] <= r["capacity"] for r in full)
            assert [r["title"] for r in full if r["w"] > 0 and r["c"] == r["capacity"]]
    finally:
        await pool.close()


async def test_demo_tokens_name_real_demo_people(settings: Settings, capsys: object) -> None:
    """`linli token --person demo` names people the demo really loads (same id, same name, that
    role in that compound); without a role it refuses and lists them."""

    from linli.auth import verify_token
    from linli.cli import main
    from linli.config import load_settings
    from services.directory.demo import demo_cast

    await load_demo(settings.database_url)
    pool = await db.create_pool(settings.database_url, schema="directory")
    try:
        async with pool.acquire() as conn:
            for p in demo_cast():
                name = await conn.fetchval("SELECT name FROM people WHERE id = $1", p.person_id)
                assert name == p.name, p
                held = await conn.fetchval(
                    "SELECT count(*) FROM roles r JOIN organisations o ON o.id = r.organisation_id"
                    " WHERE r.person_id = $1 AND o.compound_id = $2", p.person_id, p.compound_id) \
                    if p.role != "owner" else await conn.fetchval(
                    "SELECT count(*) FROM ownerships w JOIN units u ON u.id = w.unit_id"
                    " WHERE w.person_id = $1 AND u.compound_id = $2", p.person_id, p.compound_id)
                assert held >= 1, p
    finally:
        await pool.close()
    assert main(["token", "--person", "demo"]) == 2
    listed = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "--role party_branch --compound 阳光花园" in listed
    assert main(["token", "--person", "demo", "--role", "party_branch",
                 "--compound", "阳光花园"]) == 0
    token = capsys.readouterr().out.strip()  # type: ignore[attr-defined]
    who = verify_token(load_settings().jwt_secret, token)  # the CLI signs with the local secret
    branch = next(p for p in demo_cast() if p.compound == "阳光花园" and p.role == "party_branch")
    assert who.subject == str(branch.person_id) and who.has_role("party_branch")
