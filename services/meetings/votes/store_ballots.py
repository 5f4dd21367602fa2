"""Plain SQL of a person's ballot in a secret vote or an election, in one statement each (the
guard, the roll entry, who voted, the running totals or the marks, the event); keyword-only,
connection first. The open vote's is store.cast_open_ballot."""

from __future__ import annotations

import uuid

from linli.bus import woken
from linli.db import Connection
from services.meetings.votes.store import SHARD, Row

# The guard and the vote's status (as an open vote's ballot), and the person's entries on the
# frozen roll (with the weight a secret ballot adds): the head of a person's secret ballot's
# and election ballot's one statement.
_PERSONS_ENTRY = (
    "WITH guard AS (SELECT vote_open_for_ballot($1) AS open),"
    " entries AS (SELECT e.entry_id, e.area_centi, e.headcount FROM roll_owners o"
    " JOIN roll_entries e USING (vote_id, entry_id) WHERE o.vote_id = $1 AND o.person_id = $2"
    " AND ($3::text IS NULL OR o.entry_id = $3)),"
    " one AS (SELECT * FROM entries WHERE (SELECT count(*) FROM entries) = 1),"
)
# receipts.seal in SQL: the hex SHA-256 of "vote\nentry\nreceipt\nchoice" in UTF-8 (NULL without a
# receipt); tests/integration/test_votes_secret.py checks both give the same seal
SEAL_SQL = ("encode(sha256(convert_to({vote}::text || E'\\n' || {entry} || E'\\n' || {receipt}::text"
            " || E'\\n' || {choice}::text, 'UTF8')), 'hex')")
# A person's ballot in a secret vote in one statement: who voted (participation, with the
# receipt's seal: receipts.seal, in SQL), the weight added to the choice's shard of running
# totals, and the event. Nothing is written unless the vote is open, the person has exactly one
# entry there (or the one named) and that entry has not voted yet.
_CAST_SECRET = _PERSONS_ENTRY + (
    " voted AS (INSERT INTO participation (vote_id, entry_id, channel, cast_by, entered_by,"
    " proxy_name, seal) SELECT $1, one.entry_id, $5, $6, $7, $8, "
    + SEAL_SQL.format(vote="$1", entry="one.entry_id", receipt="$9", choice="$4")
    + " FROM one, guard WHERE guard.open ON CONFLICT DO NOTHING RETURNING entry_id),"
    " counted AS (INSERT INTO secret_tally_shards (vote_id, choice, shard, ballots, area_centi,"
    f" headcount) SELECT $1, $4, {SHARD}, 1, one.area_centi, one.headcount FROM voted"
    " JOIN one USING (entry_id) ON CONFLICT (vote_id, choice, shard) DO UPDATE SET"
    " ballots = secret_tally_shards.ballots + 1,"
    " area_centi = secret_tally_shards.area_centi + EXCLUDED.area_centi,"
    " headcount = secret_tally_shards.headcount + EXCLUDED.headcount),"
    " linli_outbox AS (INSERT INTO outbox (id, subject, payload)"
    " SELECT $10::uuid, $11::text, $12::bytea FROM {woken} AS woken)"
    " SELECT guard.open, (SELECT count(*) FROM entries) AS entries,"
    " (SELECT min(entry_id) FROM entries) AS entry_id, EXISTS (SELECT FROM voted) AS cast"
    " FROM guard"
)


async def cast_secret_ballot(conn: Connection, *, vote_id: uuid.UUID, person_id: uuid.UUID,
                             entry_id: str | None, choice: str, channel: str, cast_by: str,
                             entered_by: str | None, proxy_name: str | None,
                             receipt: str | None, event_id: uuid.UUID, event_type: str,
                             payload: bytes) -> Row:
    """Cast a person's secret ballot with its event in one round trip: (open, entries,
    entry_id, cast); cast is false when nothing was written (the vote is not open, the person
    has no single entry, or the entry already voted). No receipt: no seal."""
    return await conn.fetchrow(
        _CAST_SECRET.format(woken=woken(conn, "voted")), vote_id, person_id, entry_id, choice,
        channel, cast_by, entered_by, proxy_name, receipt, event_id, event_type, payload,
    )


# A person's election ballot in one statement: as a secret vote's (_CAST_SECRET), with a mark
# for every candidate ($8, $9: candidates and their choices, the whole ballot). Secret: who
# voted once, and each mark's weight added to the candidate's and choice's shard of running
# totals. Open: who voted and each mark, both changed by a second ballot (never a paper or proxy
# ballot over the owner's online one).
_WHO_VOTED = (
    " voted AS (INSERT INTO participation (vote_id, entry_id, channel, cast_by, entered_by,"
    " proxy_name) SELECT $1, one.entry_id, $4, $5, $6, $7 FROM one, guard WHERE guard.open"
)
_SECRET_MARKS = (
    " ON CONFLICT DO NOTHING RETURNING entry_id, true AS first),"
    " counted AS (INSERT INTO election_tally_shards (vote_id, candidate_id, choice, shard, ballots,"
    f" area_centi, headcount) SELECT $1, m.candidate_id, m.choice, {SHARD}, 1, one.area_centi,"
    " one.headcount FROM voted JOIN one USING (entry_id),"
    " unnest($8::uuid[], $9::text[]) AS m (candidate_id, choice)"
    " ON CONFLICT (vote_id, candidate_id, choice, shard) DO UPDATE SET"
    " ballots = election_tally_shards.ballots + 1,"
    " area_centi = election_tally_shards.area_centi + EXCLUDED.area_centi,"
    " headcount = election_tally_shards.headcount + EXCLUDED.headcount),"
)
_OPEN_MARKS = (
    " ON CONFLICT (vote_id, entry_id) DO UPDATE SET"
    " channel = EXCLUDED.channel, cast_by = EXCLUDED.cast_by,"
    " entered_by = EXCLUDED.entered_by, proxy_name = EXCLUDED.proxy_name, cast_at = now()"
    " WHERE participation.channel <> 'online' OR EXCLUDED.channel = 'online'"
    " RETURNING entry_id, xmax = 0 AS first),"
    " marked AS (INSERT INTO election_marks (vote_id, entry_id, candidate_id, choice)"
    " SELECT $1, voted.entry_id, m.candidate_id, m.choice FROM voted,"
    " unnest($8::uuid[], $9::text[]) AS m (candidate_id, choice)"
    " ON CONFLICT (vote_id, entry_id, candidate_id) DO UPDATE SET choice = EXCLUDED.choice),"
)
_ELECTION_TAIL = (
    " linli_outbox AS (INSERT INTO outbox (id, subject, payload)"
    " SELECT $10::uuid, $11::text, CASE WHEN woken.first THEN $12::bytea ELSE $13::bytea END"
    " FROM {woken} AS woken)"
    " SELECT guard.open, (SELECT count(*) FROM entries) AS entries,"
    " (SELECT min(entry_id) FROM entries) AS entry_id, (SELECT first FROM voted) AS first"
    " FROM guard"
)
_CAST_ELECTION = {secret: _PERSONS_ENTRY + _WHO_VOTED + marks + _ELECTION_TAIL
                  for secret, marks in ((True, _SECRET_MARKS), (False, _OPEN_MARKS))}


async def cast_election_ballot(conn: Connection, *, vote_id: uuid.UUID, person_id: uuid.UUID,
                               entry_id: str | None, secret: bool, marks: dict[uuid.UUID, str],
                               channel: str, cast_by: str, entered_by: str | None,
                               proxy_name: str | None, event_id: uuid.UUID, event_type: str,
                               cast_payload: bytes, changed_payload: bytes) -> Row:
    """Cast (or, open, change) a person's election ballot with its event in one round trip:
    (open, entries, entry_id, first); first is None when nothing was written (the election is
    not open, the person has no single entry, the entry already voted in a secret election, or
    a paper ballot met the owner's online one)."""
    return await conn.fetchrow(
        _CAST_ELECTION[secret].format(woken=woken(conn, "voted", "first")), vote_id, person_id,
        entry_id, channel, cast_by, entered_by, proxy_name, list(marks), list(marks.values()),
        event_id, event_type, cast_payload, changed_payload,
    )
