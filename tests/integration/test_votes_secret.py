"""Secret ballots: one statement each, many at once, the running totals spread over shard rows.
The tally must equal what was cast (each entry once), a refused ballot writes nothing, and the
totals a database kept before the shards stay what they were."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from linli import db
from linli.config import Settings
from linli.http import POOL
from services.meetings.app import MIGRATIONS
from services.meetings.votes import receipts
from services.meetings.votes import store as vote_store
from services.meetings.votes.store_ballots import SEAL_SQL
from tests.conftest import TokenFactory, assert_problem, bearer, wait_until_blocked
from tests.integration.test_meetings_support import Compound, later, new_compound, ok, outbox
from tests.integration.test_votes import (  # noqa: F401  (apps is a fixture)
    A,
    B,
    apps,
    open_vote,
    proposal,
    sunny_garden,
)
from tests.scratch_bus import fresh

CHOICES = ("agree", "agree", "oppose", "abstain", "agree")
CAST = "linli.meetings.ballot.cast"
# Another session's shard: never this session's, and never shard 0, which holds the totals
# kept from before the shards (a plain INSERT there would collide with them).
OTHER = f"pg_backend_pid() % {vote_store.SHARDS} % ({vote_store.SHARDS} - 1) + 1"


async def fifty_owners(directory: TestClient, token: TokenFactory) -> tuple[Compound, list[Any]]:
    """A compound of 50 units, one owner each, every area different; its roll entries."""
    c = await new_compound(directory, token, "五十户")
    phones = uuid.uuid4().int % 10**8
    lines = [f"1号楼,30,{i // 10 + 1},{i:04d},{60 + i}.{i:02d},delivered,"
             f"业主{i}:137{(phones + i) % 10**8:08d}" for i in range(50)]
    csv = "\n".join(["building,floors,floor,number,area,status,owners", *lines])
    await ok(await directory.post(f"/v1/compounds/{c.id}/imports/units", data=csv.encode(),
                                  headers={**c.street, "Content-Type": "text/csv"}), 201)
    roll = await ok(await directory.get(f"/v1/compounds/{c.id}/roll", headers=c.street))
    entries = [e for e in roll["entries"] if e["owner_ids"]]
    assert len(entries) == 50
    return c, entries


def owner(c: Compound, token: TokenFactory, person: str) -> dict[str, str]:
    return bearer(token(roles=["owner"], compounds=[c.id], person=person))


async def kept(meetings: TestClient, vote_id: str) -> tuple[int, list[tuple[str, int, int, int]]]:
    """Who voted (participation rows) and the totals per choice, summed over the shards."""
    async with meetings.app[POOL].acquire() as conn:
        voted = await conn.fetchval("SELECT count(*) FROM participation WHERE vote_id = $1",
                                    uuid.UUID(vote_id))
        totals = await conn.fetch(
            "SELECT choice, sum(ballots)::int AS n, sum(area_centi)::bigint AS area,"
            " sum(headcount)::int AS heads FROM secret_tally_shards WHERE vote_id = $1"
            " GROUP BY choice ORDER BY choice", uuid.UUID(vote_id))
    return voted, [(r["choice"], r["n"], r["area"], r["heads"]) for r in totals]


async def test_fifty_secret_ballots_at_once_are_each_counted_once(
    apps: tuple[TestClient, TestClient], token: TokenFactory  # noqa: F811
) -> None:
    directory, meetings = apps
    c, entries = await fifty_owners(directory, token)
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    pid = await proposal(meetings, c, branch, "community")
    vote = await open_vote(meetings, c, pid, branch, secret=True)
    url = f"/v1/compounds/{c.id}/votes/{vote['id']}/ballots"
    # every owner twice at once, the same choice both times: one counts, one is refused
    tries = [meetings.post(url, json={"choice": CHOICES[i % 5]},
                           headers=owner(c, token, e["owner_ids"][0]))
             for i, e in enumerate(entries) for _ in range(2)]
    answers = await asyncio.gather(*tries)
    assert sorted(r.status for r in answers) == [201] * 50 + [409] * 50
    refused = [await r.json() for r in answers if r.status == 409]
    assert {p["type"] for p in refused} == {"urn:linli:problem:already-voted"}
    expected = {}
    for choice in sorted(set(CHOICES)):
        mine = [e for i, e in enumerate(entries) if CHOICES[i % 5] == choice]
        expected[choice] = (len(mine), sum(e["area_centi"] for e in mine), len(mine))
    assert await kept(meetings, vote["id"]) == (50, [(k, *v) for k, v in expected.items()])
    cast = [e for e in await outbox(meetings, pid) if e["type"] == CAST]
    assert len(cast) == 50

    result = await ok(await meetings.post(f"/v1/compounds/{c.id}/votes/{vote['id']}/close",
                                          headers=branch))
    counts = result["result"]["counts"]
    assert counts["ballots"] == 50
    for choice, (_, area, heads) in expected.items():
        assert (counts[f"{choice}_area_centi"], counts[f"{choice}_headcount"]) == (area, heads)
    async with meetings.app[POOL].acquire() as conn:
        rows = await conn.fetch("SELECT choice, shard, xmin::text AS tx FROM secret_tally_shards"
                                " WHERE vote_id = $1", uuid.UUID(vote["id"]))
        voted = {r["tx"] for r in await conn.fetch(
            "SELECT xmin::text AS tx FROM participation WHERE vote_id = $1",
            uuid.UUID(vote["id"]))}
    # closed: one row per choice, written by the close (no shard of a few ballots is kept,
    # and no row shares a transaction id with a voter's participation)
    assert sorted((r["choice"], r["shard"]) for r in rows) == [(k, 0) for k in expected]
    assert not voted & {r["tx"] for r in rows}


async def test_a_refused_secret_ballot_writes_nothing(
    apps: tuple[TestClient, TestClient], token: TokenFactory  # noqa: F811
) -> None:
    directory, meetings = apps
    c = await sunny_garden(directory, token)
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    pid = await proposal(meetings, c, branch, "community")
    vote = await open_vote(meetings, c, pid, branch, secret=True)
    vid = uuid.UUID(vote["id"])
    url = f"/v1/compounds/{c.id}/votes/{vid}/ballots"
    first = await ok(await meetings.post(url, json={"choice": "agree"},
                                         headers=c.as_owner(token, A)), 201)
    assert first["receipt"] and first["choice"] is None
    before = await kept(meetings, vote["id"])
    assert before == (1, [("agree", 1, 24975, 1)])

    async def events() -> int:
        return len([e for e in await outbox(meetings, pid) if e["type"] == CAST])

    await assert_problem(await meetings.post(url, json={"choice": "oppose"},
                                             headers=c.as_owner(token, A)), 409, "already-voted")
    await assert_problem(await meetings.post(url, json={"choice": "agree"}, headers=owner(
        c, token, str(uuid.uuid4()))), 403, "not-on-roll")
    await assert_problem(await meetings.post(url, json={"choice": "agree", "entry_id": "nope"},
                                             headers=c.as_owner(token, B)), 403, "not-on-roll")
    assert await kept(meetings, vote["id"]) == before and await events() == 1

    async with meetings.app[POOL].acquire() as conn, conn.transaction():
        # a close's steps: the guard taken exclusive, the vote closed, then the commit; the
        # ballot's statement began before and waits for the guard
        await vote_store.guard(conn, vote_id=vid, exclusive=True)
        casting = asyncio.ensure_future(meetings.post(
            url, json={"choice": "oppose"}, headers=c.as_owner(token, B)))
        await wait_until_blocked(conn)
        await vote_store.close_vote(conn, id=vid, closed_by="t", outcome="passed", result={})
    await assert_problem(await casting, 409, "vote-closed")
    assert await kept(meetings, vote["id"]) == before and await events() == 1


async def election_of(meetings: TestClient, c: Compound, token: TokenFactory,
                      people: list[str], secret: bool) -> str:
    """An election of the first 7 owners for 5 seats; its vote's path."""
    street = bearer(token(roles=["street_office"], compounds=[c.id]))
    pid = await proposal(meetings, c, street, "art278_3")
    opened = await ok(await meetings.post(
        f"/v1/compounds/{c.id}/proposals/{pid}/elections", json={
            "closes_at": later(), "seats": 5, "secret": secret,
            "candidates": [{"person_id": p, "name": f"候选人{i}"}
                           for i, p in enumerate(people[:7])]}, headers=street), 201)
    return f"/v1/compounds/{c.id}/votes/{opened['vote']['id']}"


async def test_fifty_election_ballots_at_once_are_each_counted_once(
    apps: tuple[TestClient, TestClient], token: TokenFactory  # noqa: F811
) -> None:
    """Secret: every owner twice at once, one counts; open: twice, the same ballot, counted
    once. Each candidate's counts equal the marks cast."""
    directory, meetings = apps
    c, entries = await fifty_owners(directory, token)
    people = [e["owner_ids"][0] for e in entries]
    names = people[:7]
    ballots = [{"approve": [names[(i + k) % 7] for k in range(i % 6)],
                "oppose": [names[(i + 6) % 7]]} for i in range(50)]
    expected: dict[str, dict[str, int]] = {n: {"agree": 0, "oppose": 0, "abstain": 0}
                                           for n in names}
    for i, ballot in enumerate(ballots):
        for n in names:
            mark = "agree" if n in ballot["approve"] else (
                "oppose" if n in ballot["oppose"] else "abstain")
            expected[n][mark] += entries[i]["area_centi"]
    for secret in (True, False):
        v = await election_of(meetings, c, token, people, secret)
        answers = await asyncio.gather(*(
            meetings.post(f"{v}/election-ballots", json=ballots[i],
                          headers=owner(c, token, people[i])) for i in range(50) for _ in "12"))
        assert sorted(r.status for r in answers) == [201] * (50 if secret else 100) + (
            [409] * 50 if secret else [])
        result = await ok(await meetings.post(f"{v}/close", headers=bearer(token(
            roles=["street_office"], compounds=[c.id]))))
        for judged in result["result"]["candidates"]:
            counts = judged["counts"]
            assert counts["ballots"] == 50
            assert {k: counts[f"{k}_area_centi"] for k in expected[judged["candidate"]]} == \
                expected[judged["candidate"]]


async def test_a_refused_election_ballot_writes_nothing(
    apps: tuple[TestClient, TestClient], token: TokenFactory  # noqa: F811
) -> None:
    directory, meetings = apps
    c, entries = await fifty_owners(directory, token)
    people = [e["owner_ids"][0] for e in entries]
    v = await election_of(meetings, c, token, people, secret=True)
    vid = uuid.UUID(v.rsplit("/", 1)[-1])
    url = f"{v}/election-ballots"

    async def written() -> tuple[int, int]:
        async with meetings.app[POOL].acquire() as conn:
            return (await conn.fetchval(
                "SELECT count(*) FROM participation WHERE vote_id = $1", vid),
                await conn.fetchval(
                "SELECT coalesce(sum(ballots), 0) FROM election_tally_shards WHERE vote_id = $1", vid))

    await ok(await meetings.post(url, json={"approve": people[:5]},
                                 headers=owner(c, token, people[0])), 201)
    assert await written() == (1, 7)
    await assert_problem(await meetings.post(url, json={"approve": people[:1]}, headers=owner(
        c, token, people[0])), 409, "already-voted")
    await assert_problem(await meetings.post(url, json={"approve": people[:1]}, headers=owner(
        c, token, str(uuid.uuid4()))), 403, "not-on-roll")
    await assert_problem(await meetings.post(url, json={"approve": people[:6]}, headers=owner(
        c, token, people[1])), 422, "validation-error")
    await assert_problem(await meetings.post(f"{v}/ballots", json={"choice": "agree"},
                                             headers=owner(c, token, people[1])),
                         422, "validation-error")
    assert await written() == (1, 7)
    async with meetings.app[POOL].acquire() as conn, conn.transaction():
        await vote_store.guard(conn, vote_id=vid, exclusive=True)
        casting = asyncio.ensure_future(meetings.post(
            url, json={"approve": people[:2]}, headers=owner(c, token, people[1])))
        await wait_until_blocked(conn)
        await vote_store.close_vote(conn, id=vid, closed_by="t", outcome="passed", result={})
    await assert_problem(await casting, 409, "vote-closed")
    assert await written() == (1, 7)


async def test_the_shards_keep_the_totals_kept_before_them(settings: Settings,
                                                           tmp_path: Path) -> None:
    """A database migrated before 0017 keeps each vote's totals (now shard 0 of each choice),
    adds new ballots to them, and counts and folds both."""
    for path in sorted(MIGRATIONS.glob("*.sql")):
        if path.name < "0017":
            shutil.copy(path, tmp_path / path.name)
    schema = fresh("mt_")
    pool = await db.create_pool(settings.database_url, schema=schema)
    try:
        async with pool.acquire() as conn:
            await db.migrate(conn, schema=schema, migrations=tmp_path)
            vote_id, candidate = await _old_secret_election(conn)
            assert "0017_tally_shards.sql" in await db.migrate(conn, schema=schema,
                                                                migrations=MIGRATIONS)
            # a replica still on the code from before: its one-row-per-choice totals are gone,
            # so its ballot or close fails (and rolls back) instead of counting one shard
            with pytest.raises(asyncpg.UndefinedTableError):
                await conn.fetch("SELECT choice FROM secret_tallies WHERE vote_id = $1", vote_id)
            with pytest.raises(asyncpg.UndefinedTableError):
                await conn.fetch("SELECT choice FROM election_tallies WHERE vote_id = $1", vote_id)
            sums = await vote_store.sums_by_choice(conn, vote_id=vote_id, secret=True)
            assert sorted((r["choice"], r["n"], r["area"], r["heads"]) for r in sums) == [
                ("agree", 7, 70000, 7), ("oppose", 2, 15000, 2)]
            # ballots cast since: on this session's shard, and on another session's
            await vote_store.add_secret_ballot(conn, vote_id=vote_id, choice="agree",
                                               area_centi=123, headcount=1)
            await vote_store.add_secret_marks(conn, vote_id=vote_id, marks={candidate: "agree"},
                                              area_centi=123, headcount=1)
            await conn.execute(
                "INSERT INTO secret_tally_shards (vote_id, choice, shard, ballots, area_centi,"
                f" headcount) VALUES ($1, 'oppose', {OTHER}, 1, 1000, 1)", vote_id)
            await conn.execute(
                "INSERT INTO election_tally_shards (vote_id, candidate_id, choice, shard, ballots,"
                f" area_centi, headcount) VALUES ($1, $2, 'agree', {OTHER}, 1, 1000, 1)",
                vote_id, candidate)
            sums = await vote_store.sums_by_choice(conn, vote_id=vote_id, secret=True)
            assert sorted((r["choice"], r["n"], r["area"]) for r in sums) == [
                ("agree", 8, 70123), ("oppose", 3, 16000)]
            async with conn.transaction():
                await vote_store.seal_secret_tallies(conn, vote_id=vote_id)
                await vote_store.seal_election_tallies(conn, vote_id=vote_id)
            rows = await conn.fetch("SELECT choice, shard, ballots, area_centi, headcount"
                                    " FROM secret_tally_shards ORDER BY choice")
            assert [tuple(r) for r in rows] == [("agree", 0, 8, 70123, 8),
                                                ("oppose", 0, 3, 16000, 3)]
            marks = await conn.fetch("SELECT choice, shard, ballots, area_centi"
                                     " FROM election_tally_shards")
            assert [tuple(r) for r in marks] == [("agree", 0, 5, 41123)]
    finally:
        await pool.execute(f"DROP SCHEMA {schema} CASCADE")
        await pool.close()


async def _old_secret_election(conn: Any) -> tuple[uuid.UUID, uuid.UUID]:
    """A secret vote with its totals as migration 0016 left them (one row per choice), and an
    election candidate's."""
    proposal_id, vote_id, candidate = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await conn.execute("INSERT INTO proposals (id, compound_id, title, matter, created_by)"
                       " VALUES ($1, $2, '旧表决', 'community', 't')", proposal_id, uuid.uuid4())
    await conn.execute("INSERT INTO proposal_versions (proposal_id, number, body, created_by)"
                       " VALUES ($1, 1, '正文', 't')", proposal_id)
    await conn.execute(
        "INSERT INTO votes (id, compound_id, proposal_id, version, rule, secret, closes_at,"
        " opened_by, total_area_centi, total_headcount) VALUES ($1, $2, $3, 1,"
        " 'simple_majority', true, $4::text::timestamptz, 't', 100000, 10)",
        vote_id, uuid.uuid4(), proposal_id, later())
    await conn.execute(
        "INSERT INTO secret_tallies (vote_id, choice, ballots, area_centi, headcount)"
        " VALUES ($1, 'agree', 7, 70000, 7), ($1, 'oppose', 2, 15000, 2)", vote_id)
    await conn.execute("INSERT INTO election_candidates (vote_id, candidate_id, name, position)"
                       " VALUES ($1, $2, '候选人', 1)", vote_id, candidate)
    await conn.execute(
        "INSERT INTO election_tallies (vote_id, candidate_id, choice, ballots, area_centi,"
        " headcount) VALUES ($1, $2, 'agree', 3, 40000, 3)", vote_id, candidate)
    return vote_id, candidate


async def test_the_seal_written_in_sql_opens_with_the_receipt_as_python_reads_it(
    settings: Settings,
) -> None:
    """The ballot statement seals in SQL (store_ballots.SEAL_SQL); a voter's receipt is checked
    in Python (receipts.opened): both must give the same seal, whatever the entry id holds."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        vote_id, receipt = uuid.uuid4(), receipts.new_receipt()
        for entry_id in ("unit:0b0e", "1号楼-101 (共有)", "entry:张三\t李四"):
            sealed = await conn.fetchval("SELECT " + SEAL_SQL.format(
                vote="$1::uuid", entry="$2::text", receipt="$3", choice="$4"),
                vote_id, entry_id, receipt, "oppose")
            assert sealed == receipts.seal(vote_id, entry_id, receipt, "oppose")
            assert receipts.opened(vote_id, entry_id, receipt, sealed) == "oppose"
        no_receipt = await conn.fetchval("SELECT " + SEAL_SQL.format(
            vote="$1::uuid", entry="$2::text", receipt="$3", choice="$4"), vote_id, "e", None, "agree")
        assert no_receipt is None  # cast on paper: nothing to open later
    finally:
        await conn.close()
