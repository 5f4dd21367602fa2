"""The owners' ballots of bench_meetings in the other kinds of vote, each flat out and counted:
a secret vote (running totals per choice, no row per ballot), and a committee election of 5
seats and 7 candidates, secret (running totals per candidate and choice) and open (a mark per
candidate and ballot)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import aiohttp

from bench import bench_meetings as bm
from bench import harness

SEATS, CANDIDATES = 5, 7


async def _measured(stack: Any, session: aiohttp.ClientSession, meetings: Any, cid: str,
                    vote_id: str, people: list[str], connections: int, *,
                    bodies: list[bytes] | None = None, path: str = "ballots") -> dict[str, Any]:
    """Every owner's ballot at once (as bench_meetings.cast_all), CPU and round trips per
    ballot, then the close: it must count each ballot once."""

    async def drive() -> dict[str, Any]:
        found = await bm.cast_all(meetings.url, cid, vote_id, people, connections,
                                  bodies=bodies, path=path)
        return {**found, "requests": found["owners"]}

    found = await harness.measured(stack, meetings.pid, drive,
                                   done="SELECT count(*) FROM meetings.participation")
    closed = await bm.counted(session, meetings.url, cid, vote_id)
    result = closed["result"]
    counts = result["candidates"][0]["counts"] if "candidates" in result else result["counts"]
    found["counted_ballots"] = counts["ballots"]
    found["in_flight"] = connections
    assert found["counted_ballots"] == len(people), found
    return found


async def _election(session: aiohttp.ClientSession, meetings: str, cid: str,
                    people: list[str], secret: bool) -> str:
    """An election of the first CANDIDATES owners for SEATS seats."""
    branch = bm.token("bench-branch", ["party_branch"], cid)
    proposal = await bm.post(session, f"{meetings}/v1/compounds/{cid}/proposals", branch, json={
        "title": "选举业主委员会", "matter": "art278_3", "body": "基准测试选举"})
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    election = await bm.post(
        session, f"{meetings}/v1/compounds/{cid}/proposals/{proposal['id']}/elections", branch,
        json={"closes_at": closes, "seats": SEATS, "secret": secret, "candidates": [
            {"person_id": p, "name": f"候选人{i}"} for i, p in enumerate(people[:CANDIDATES])]})
    return str(election["vote"]["id"])


def _election_ballots(people: list[str]) -> list[bytes]:
    """Owner i approves SEATS candidates from the i-th on and opposes one."""
    names = people[:CANDIDATES]
    return [json.dumps({"approve": [names[(i + k) % CANDIDATES] for k in range(SEATS)],
                        "oppose": [names[(i + SEATS) % CANDIDATES]]}).encode()
            for i in range(len(people))]


async def measure(stack: Any, session: aiohttp.ClientSession, meetings: Any, cid: str,
                  people: list[str], connections: int) -> dict[str, Any]:
    found = {}
    secret = await bm.another_vote(session, meetings.url, cid, secret=True)
    found["secret_ballots_over_http"] = await _measured(
        stack, session, meetings, cid, secret, people, connections)
    for kind, is_secret in (("secret", True), ("open", False)):
        vote_id = await _election(session, meetings.url, cid, people, is_secret)
        found[f"{kind}_election_ballots_over_http"] = await _measured(
            stack, session, meetings, cid, vote_id, people, connections,
            bodies=_election_ballots(people), path="election-ballots")
    return found
