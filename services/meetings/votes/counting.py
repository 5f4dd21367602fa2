"""Counting a committee election from the database: sums per candidate and choice, in SQL
(exact integers) on the frozen roll, judged by election.decide_election."""

from __future__ import annotations

from typing import Any

from linli.db import Connection
from services.meetings.votes import store, tally
from services.meetings.votes.election import COMMITTEE_ELECTION, ElectionResult, decide_election


def is_election(vote: Any) -> bool:
    return bool(vote["rule"] == COMMITTEE_ELECTION)


def keeps_participation(vote: Any) -> bool:
    """Secret votes and every election record who voted in `participation`, not `ballots`."""
    return bool(vote["secret"]) or is_election(vote)


async def count_election(conn: Connection, vote: Any) -> tuple[ElectionResult, dict[str, Any]]:
    """The election's result, and its JSON form with each candidate's name."""
    names = {str(r["candidate_id"]): r["name"]
             for r in await store.candidates(conn, vote_id=vote["id"])}
    rows = await store.sums_by_candidate(conn, vote_id=vote["id"], secret=vote["secret"])
    sums: dict[str, dict[str, Any]] = {c: {} for c in names}
    for r in rows:
        sums[str(r["candidate_id"])][r["choice"]] = r
    # every ballot marks every candidate (unmarked = abstain), so any candidate's marks count
    # the ballots
    first = next(iter(sums.values()), {})
    ballots = sum(int(r["n"]) for r in first.values())

    def part(c: str, choice: str, column: str) -> int:
        return int(sums[c][choice][column]) if choice in sums[c] else 0

    counts = {c: tally.Counts(
        total_area_centi=vote["total_area_centi"], total_headcount=vote["total_headcount"],
        **{f"{k}_area_centi": part(c, k, "area") for k in tally.CHOICES},
        **{f"{k}_headcount": part(c, k, "heads") for k in tally.CHOICES},
        ballots=ballots) for c in names}
    result = decide_election(counts, vote["seats"])
    out = result.to_dict()
    for c in out["candidates"]:
        c["name"] = names[c["candidate"]]
    return result, out
