"""Plain SQL of votes, the frozen roll and ballots; keyword-only, connection first."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

from linli.bus import woken
from linli.db import Connection

Row = Any


async def insert_vote(conn: Connection, *, id: uuid.UUID, compound_id: uuid.UUID,
                      proposal_id: uuid.UUID, version: int, rule: str, quorum: str | None,
                      secret: bool, closes_at: dt.datetime, opened_by: str,
                      total_area_centi: int, total_headcount: int) -> Row:
    return await conn.fetchrow(
        "INSERT INTO votes (id, compound_id, proposal_id, version, rule, quorum, secret,"
        " closes_at, opened_by, total_area_centi, total_headcount)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " ON CONFLICT (proposal_id) WHERE status = 'open' DO NOTHING RETURNING *",
        id, compound_id, proposal_id, version, rule, quorum, secret, closes_at, opened_by,
        total_area_centi, total_headcount,
    )


async def insert_roll(conn: Connection, *, vote_id: uuid.UUID, entries: Sequence[Any]) -> None:
    """Freeze the roll: its entries and, for online ballots, which person is on which entry.
    COPY (binary, one round trip each): a roll of 30,000 owners is two streams, not 60,000
    INSERTs."""
    await conn.copy_records_to_table(
        "roll_entries", columns=["vote_id", "entry_id", "kind", "owner_ids", "unit_ids",
                                 "area_centi", "headcount"],
        records=[(vote_id, e.entry_id, e.kind, e.owner_ids, e.unit_ids, e.area_centi, e.headcount)
                 for e in entries])
    await conn.copy_records_to_table(
        "roll_owners", columns=["vote_id", "person_id", "entry_id"],
        records=[(vote_id, person, e.entry_id) for e in entries for person in e.owner_ids])


async def get_vote(conn: Connection, *, id: uuid.UUID, lock: str = "") -> Row:
    """The vote; lock = "" | "update" (closing or cancelling). NO KEY UPDATE: the FOR KEY SHARE
    an in-flight secret ballot takes on it (the tallies' foreign key) must not wait for a close
    that is itself waiting for that ballot (the guard): that was a deadlock."""
    suffix = {"": "", "update": " FOR NO KEY UPDATE"}[lock]
    return await conn.fetchrow(f"SELECT * FROM votes WHERE id = $1{suffix}", id)


async def guard(conn: Connection, *, vote_id: uuid.UUID, exclusive: bool) -> None:
    """Ballots take this lock shared, closing takes it exclusive: no ballot lands after the
    count. An advisory lock, unlike FOR SHARE on the vote row, writes nothing per ballot."""
    kind = "" if exclusive else "_shared"
    await conn.execute(f"SELECT pg_advisory_xact_lock{kind}(hashtextextended($1::text, 7))",
                       str(vote_id))


async def roll_size(conn: Connection, *, vote_id: uuid.UUID) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM roll_entries WHERE vote_id = $1",
                                   vote_id))


async def list_votes(conn: Connection, *, proposal_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM votes WHERE proposal_id = $1 ORDER BY opens_at, id", proposal_id
    )


async def entries_of(conn: Connection, *, vote_id: uuid.UUID, person_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT e.* FROM roll_owners o JOIN roll_entries e USING (vote_id, entry_id)"
        " WHERE o.vote_id = $1 AND o.person_id = $2 ORDER BY e.entry_id",
        vote_id, person_id,
    )


async def get_entry(conn: Connection, *, vote_id: uuid.UUID, entry_id: str) -> Row:
    return await conn.fetchrow(
        "SELECT * FROM roll_entries WHERE vote_id = $1 AND entry_id = $2", vote_id, entry_id
    )


async def upsert_ballot(conn: Connection, *, vote_id: uuid.UUID, entry_id: str, choice: str,
                        channel: str, cast_by: str, entered_by: str | None,
                        proxy_name: str | None) -> bool | None:
    """Cast or change the entry's one ballot; True when it was the first, None when it was not
    changed: a paper or proxy ballot never replaces the owner's own online ballot."""
    first = await conn.fetchval(
        "INSERT INTO ballots (vote_id, entry_id, choice, channel, cast_by, entered_by, proxy_name)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (vote_id, entry_id) DO UPDATE SET"
        " choice = EXCLUDED.choice, channel = EXCLUDED.channel, cast_by = EXCLUDED.cast_by,"
        " entered_by = EXCLUDED.entered_by, proxy_name = EXCLUDED.proxy_name,"
        " revisions = ballots.revisions + 1, cast_at = now()"
        " WHERE ballots.channel <> 'online' OR EXCLUDED.channel = 'online' RETURNING xmax = 0",
        vote_id, entry_id, choice, channel, cast_by, entered_by, proxy_name,
    )
    return None if first is None else bool(first)


# An open vote's ballot in one statement: the guard and a fresh read of the vote's status
# (vote_open_for_ballot, migration 0016), the person's entries on the frozen roll, the ballot
# (written only when the vote is open and the person has exactly one entry there, or the one
# named), and its event in the outbox (its payload says whether the ballot was changed).
_CAST_OPEN = (
    "WITH guard AS (SELECT vote_open_for_ballot($1) AS open),"
    " entries AS (SELECT o.entry_id FROM roll_owners o WHERE o.vote_id = $1 AND o.person_id = $2"
    " AND ($3::text IS NULL OR o.entry_id = $3)),"
    " one AS (SELECT entry_id FROM entries WHERE (SELECT count(*) FROM entries) = 1),"
    " ballot AS (INSERT INTO ballots (vote_id, entry_id, choice, channel, cast_by, entered_by,"
    " proxy_name) SELECT $1, one.entry_id, $4, $5, $6, $7, $8 FROM one, guard WHERE guard.open"
    " ON CONFLICT (vote_id, entry_id) DO UPDATE SET"
    " choice = EXCLUDED.choice, channel = EXCLUDED.channel, cast_by = EXCLUDED.cast_by,"
    " entered_by = EXCLUDED.entered_by, proxy_name = EXCLUDED.proxy_name,"
    " revisions = ballots.revisions + 1, cast_at = now()"
    " WHERE ballots.channel <> 'online' OR EXCLUDED.channel = 'online'"
    " RETURNING xmax = 0 AS first),"
    " linli_outbox AS (INSERT INTO outbox (id, subject, payload)"
    " SELECT $9::uuid, $10::text, CASE WHEN woken.first THEN $11::bytea ELSE $12::bytea END"
    " FROM {woken} AS woken)"
    " SELECT guard.open, (SELECT count(*) FROM entries) AS entries,"
    " (SELECT min(entry_id) FROM entries) AS entry_id, (SELECT first FROM ballot) AS first"
    " FROM guard"
)


async def cast_open_ballot(conn: Connection, *, vote_id: uuid.UUID, person_id: uuid.UUID,
                           entry_id: str | None, choice: str, channel: str, cast_by: str,
                           entered_by: str | None, proxy_name: str | None, event_id: uuid.UUID,
                           event_type: str, cast_payload: bytes, changed_payload: bytes) -> Row:
    """Cast or change a person's ballot in an open vote, with its event, in one round trip:
    (open, entries, entry_id, first); first is None when nothing was written (the vote is not
    open, the person has no single entry, or a paper ballot met the owner's online one)."""
    return await conn.fetchrow(
        _CAST_OPEN.format(woken=woken(conn, "ballot", "first")), vote_id, person_id, entry_id,
        choice, channel, cast_by, entered_by, proxy_name, event_id, event_type, cast_payload, changed_payload,
    )


async def get_ballot(conn: Connection, *, vote_id: uuid.UUID, entry_id: str) -> Row:
    return await conn.fetchrow("SELECT * FROM ballots WHERE vote_id = $1 AND entry_id = $2",
                               vote_id, entry_id)


async def insert_participation(conn: Connection, *, vote_id: uuid.UUID, entry_id: str,
                               channel: str, cast_by: str, entered_by: str | None,
                               proxy_name: str | None, seal: str | None = None) -> bool:
    """Record who voted in a secret vote (and the seal of the voter's receipt); False when
    this entry already voted."""
    return bool(await conn.fetchval(
        "INSERT INTO participation (vote_id, entry_id, channel, cast_by, entered_by, proxy_name,"
        " seal) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING true",
        vote_id, entry_id, channel, cast_by, entered_by, proxy_name, seal,
    ))


async def my_ballots(conn: Connection, *, vote_id: uuid.UUID, person_id: uuid.UUID,
                     secret: bool) -> list[Row]:
    """The person's roll entries with their ballot, if any: the choice of an open vote, the
    seal of a secret one (never a choice: a secret vote keeps none per ballot)."""
    what = "b.seal, NULL::text AS choice" if secret else "NULL::text AS seal, b.choice"
    return await conn.fetch(
        f"SELECT e.entry_id, e.area_centi, b.channel, b.cast_at, {what}"
        f" FROM roll_owners o JOIN roll_entries e USING (vote_id, entry_id)"
        f" LEFT JOIN {_voted_table(secret)} b ON b.vote_id = e.vote_id AND b.entry_id = e.entry_id"
        " WHERE o.vote_id = $1 AND o.person_id = $2 ORDER BY e.entry_id",
        vote_id, person_id,
    )


# The running-total row a ballot adds to: its choice's shard of this database session (one of
# SHARDS, migration 0017). Ballots on different sessions do not wait for each other's commit,
# and the shard says nothing of the voter.
SHARDS = 16
SHARD = f"pg_backend_pid() % {SHARDS}"


async def add_secret_ballot(conn: Connection, *, vote_id: uuid.UUID, choice: str,
                            area_centi: int, headcount: int) -> None:
    """Add a secret ballot's weight to its choice's running totals; no row names the ballot."""
    await conn.execute(
        "INSERT INTO secret_tally_shards (vote_id, choice, shard, ballots, area_centi, headcount)"
        f" VALUES ($1, $2, {SHARD}, 1, $3, $4) ON CONFLICT (vote_id, choice, shard) DO UPDATE"
        " SET ballots = secret_tally_shards.ballots + 1,"
        " area_centi = secret_tally_shards.area_centi + EXCLUDED.area_centi,"
        " headcount = secret_tally_shards.headcount + EXCLUDED.headcount",
        vote_id, choice, area_centi, headcount,
    )


async def seal_secret_tallies(conn: Connection, *, vote_id: uuid.UUID) -> None:
    """Fold each choice's shards into one row, written by the closing transaction: no total
    keeps the transaction id (xmin) of a ballot that changed it, which its participation row
    shares, and no closed vote keeps a shard that might hold one ballot's area."""
    await conn.execute(
        "WITH shards AS (DELETE FROM secret_tally_shards WHERE vote_id = $1"
        " RETURNING choice, ballots, area_centi, headcount)"
        " INSERT INTO secret_tally_shards (vote_id, choice, shard, ballots, area_centi, headcount)"
        " SELECT $1, choice, 0, sum(ballots), sum(area_centi), sum(headcount) FROM shards"
        " GROUP BY choice", vote_id,
    )


async def sums_by_choice(conn: Connection, *, vote_id: uuid.UUID, secret: bool) -> list[Row]:
    """Ballots, area and headcount per choice (a secret vote keeps only these totals)."""
    if secret:
        return await conn.fetch(
            "SELECT choice, sum(ballots) AS n, sum(area_centi) AS area, sum(headcount) AS heads"
            " FROM secret_tally_shards WHERE vote_id = $1 GROUP BY choice HAVING sum(ballots) > 0",
            vote_id,
        )
    return await conn.fetch(
        "SELECT b.choice, count(*) AS n, sum(e.area_centi) AS area, sum(e.headcount) AS heads"
        " FROM ballots b JOIN roll_entries e USING (vote_id, entry_id) WHERE b.vote_id = $1"
        " GROUP BY b.choice",
        vote_id,
    )


def _voted_table(secret: bool) -> str:
    return "participation" if secret else "ballots"


async def turnout(conn: Connection, *, vote_id: uuid.UUID, secret: bool) -> list[Row]:
    """Ballots, area and headcount that took part, per channel (who voted, never what)."""
    return await conn.fetch(
        f"SELECT b.channel, count(*) AS n, sum(e.area_centi) AS area, sum(e.headcount) AS heads"
        f" FROM {_voted_table(secret)} b JOIN roll_entries e USING (vote_id, entry_id)"
        " WHERE b.vote_id = $1 GROUP BY b.channel",
        vote_id,
    )


async def entered_ballots(conn: Connection, *, vote_id: uuid.UUID, secret: bool,
                          after: tuple[dt.datetime, str] | None, limit: int) -> list[Row]:
    """A page of paper and proxy ballots with who entered them, by (cast_at, entry_id) (never
    the choice of a secret vote)."""
    choice = "NULL::text" if secret else "choice"
    at, last = after or (None, None)
    return await conn.fetch(
        f"SELECT entry_id, channel, cast_by, entered_by, proxy_name, cast_at, {choice} AS choice"
        f" FROM {_voted_table(secret)} WHERE vote_id = $1 AND entered_by IS NOT NULL"
        " AND ($2::timestamptz IS NULL OR (cast_at, entry_id) > ($2, $3::text))"
        " ORDER BY cast_at, entry_id LIMIT $4",
        vote_id, at, last, limit,
    )


async def non_voters(conn: Connection, *, vote_id: uuid.UUID, secret: bool) -> list[Row]:
    return await conn.fetch(
        f"SELECT e.entry_id, e.owner_ids FROM roll_entries e WHERE e.vote_id = $1"
        f" AND NOT EXISTS (SELECT 1 FROM {_voted_table(secret)} b"
        " WHERE b.vote_id = e.vote_id AND b.entry_id = e.entry_id) ORDER BY e.entry_id",
        vote_id,
    )


async def close_vote(conn: Connection, *, id: uuid.UUID, closed_by: str, outcome: str,
                     result: dict[str, Any]) -> Row:
    return await conn.fetchrow(
        "UPDATE votes SET status = 'closed', closed_at = now(), closed_by = $2, outcome = $3,"
        " result = $4::jsonb WHERE id = $1 RETURNING *",
        id, closed_by, outcome, json.dumps(result),
    )


async def due_votes(conn: Connection, *, limit: int) -> list[Row]:
    return await conn.fetch(
        "SELECT id, proposal_id FROM votes WHERE status = 'open' AND closes_at <= now()"
        " ORDER BY closes_at LIMIT $1",
        limit,
    )


async def cancel_vote(conn: Connection, *, id: uuid.UUID, cancelled_by: str, reason: str) -> Row:
    """Cancel an open vote: no tally and no result; its ballots stay for audit."""
    return await conn.fetchrow(
        "UPDATE votes SET status = 'cancelled', cancelled_at = now(), cancelled_by = $2,"
        " cancel_reason = $3 WHERE id = $1 AND status = 'open' RETURNING *",
        id, cancelled_by, reason,
    )


async def open_vote_of(conn: Connection, *, proposal_id: uuid.UUID) -> Row:
    """The proposal's open vote (at most one: the partial unique index), or None."""
    return await conn.fetchrow(
        "SELECT id FROM votes WHERE proposal_id = $1 AND status = 'open'", proposal_id)


# --- committee elections -----------------------------------------------------------------------

async def set_seats(conn: Connection, *, vote_id: uuid.UUID, seats: int) -> Row:
    return await conn.fetchrow("UPDATE votes SET seats = $2 WHERE id = $1 RETURNING *",
                               vote_id, seats)


async def insert_candidates(conn: Connection, *, vote_id: uuid.UUID,
                            candidates: Sequence[tuple[uuid.UUID, str]]) -> None:
    await conn.executemany(
        "INSERT INTO election_candidates (vote_id, candidate_id, name, position)"
        " VALUES ($1, $2, $3, $4)",
        [(vote_id, cid, name, i) for i, (cid, name) in enumerate(candidates, start=1)],
    )


async def candidates(conn: Connection, *, vote_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT candidate_id, name, position FROM election_candidates WHERE vote_id = $1"
        " ORDER BY position", vote_id,
    )


async def upsert_participation(conn: Connection, *, vote_id: uuid.UUID, entry_id: str,
                               channel: str, cast_by: str, entered_by: str | None,
                               proxy_name: str | None) -> bool | None:
    """An open election's one ballot per entry, changeable until close; True when first, None
    when not changed: a paper or proxy ballot never replaces the owner's own online ballot."""
    first = await conn.fetchval(
        "INSERT INTO participation (vote_id, entry_id, channel, cast_by, entered_by, proxy_name)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (vote_id, entry_id) DO UPDATE SET"
        " channel = EXCLUDED.channel, cast_by = EXCLUDED.cast_by,"
        " entered_by = EXCLUDED.entered_by, proxy_name = EXCLUDED.proxy_name, cast_at = now()"
        " WHERE participation.channel <> 'online' OR EXCLUDED.channel = 'online'"
        " RETURNING xmax = 0",
        vote_id, entry_id, channel, cast_by, entered_by, proxy_name,
    )
    return None if first is None else bool(first)


async def get_participation(conn: Connection, *, vote_id: uuid.UUID, entry_id: str) -> Row:
    return await conn.fetchrow(
        "SELECT * FROM participation WHERE vote_id = $1 AND entry_id = $2", vote_id, entry_id)


async def replace_marks(conn: Connection, *, vote_id: uuid.UUID, entry_id: str,
                        marks: dict[uuid.UUID, str]) -> None:
    await conn.execute("DELETE FROM election_marks WHERE vote_id = $1 AND entry_id = $2",
                       vote_id, entry_id)
    await conn.executemany(
        "INSERT INTO election_marks (vote_id, entry_id, candidate_id, choice)"
        " VALUES ($1, $2, $3, $4)",
        [(vote_id, entry_id, cid, choice) for cid, choice in marks.items()],
    )


async def add_secret_marks(conn: Connection, *, vote_id: uuid.UUID, marks: dict[uuid.UUID, str],
                           area_centi: int, headcount: int) -> None:
    """Add a secret election ballot's weight to each candidate's running totals."""
    await conn.executemany(
        "INSERT INTO election_tally_shards (vote_id, candidate_id, choice, shard, ballots, area_centi,"
        f" headcount) VALUES ($1, $2, $3, {SHARD}, 1, $4, $5)"
        " ON CONFLICT (vote_id, candidate_id, choice, shard) DO UPDATE SET"
        " ballots = election_tally_shards.ballots + 1,"
        " area_centi = election_tally_shards.area_centi + EXCLUDED.area_centi,"
        " headcount = election_tally_shards.headcount + EXCLUDED.headcount",
        [(vote_id, cid, choice, area_centi, headcount) for cid, choice in marks.items()],
    )


async def seal_election_tallies(conn: Connection, *, vote_id: uuid.UUID) -> None:
    """As seal_secret_tallies: one row per candidate and choice, written by the close."""
    await conn.execute(
        "WITH shards AS (DELETE FROM election_tally_shards WHERE vote_id = $1"
        " RETURNING candidate_id, choice, ballots, area_centi, headcount)"
        " INSERT INTO election_tally_shards (vote_id, candidate_id, choice, shard, ballots,"
        " area_centi, headcount) SELECT $1, candidate_id, choice, 0, sum(ballots),"
        " sum(area_centi), sum(headcount) FROM shards GROUP BY candidate_id, choice", vote_id,
    )


async def sums_by_candidate(conn: Connection, *, vote_id: uuid.UUID, secret: bool) -> list[Row]:
    """Ballots, area and headcount per candidate and choice (secret: the running totals)."""
    if secret:
        return await conn.fetch(
            "SELECT candidate_id, choice, sum(ballots) AS n, sum(area_centi) AS area,"
            " sum(headcount) AS heads FROM election_tally_shards WHERE vote_id = $1"
            " GROUP BY candidate_id, choice HAVING sum(ballots) > 0", vote_id,
        )
    return await conn.fetch(
        "SELECT m.candidate_id, m.choice, count(*) AS n, sum(e.area_centi) AS area,"
        " sum(e.headcount) AS heads FROM election_marks m"
        " JOIN roll_entries e USING (vote_id, entry_id) WHERE m.vote_id = $1"
        " GROUP BY m.candidate_id, m.choice", vote_id,
    )
