"""A voter reads back their own ballot. An open vote keeps the choice; a secret vote keeps
none per ballot, so the online voter is given a receipt (a random nonce) and participation
keeps only a seal of it: sha256 over the vote, the entry, the nonce and the choice. Whoever
holds the receipt can tell which choice matches the seal; without it the seal says nothing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from linli import problems
from linli.db import Pool
from services.meetings.votes import counting, store, tally
from services.meetings.votes.models import MyBallot, MyBallots


def new_receipt() -> str:
    return secrets.token_urlsafe(24)


def seal(vote_id: uuid.UUID, entry_id: str, receipt: str, choice: str) -> str:
    return hashlib.sha256(f"{vote_id}\n{entry_id}\n{receipt}\n{choice}".encode()).hexdigest()


def opened(vote_id: uuid.UUID, entry_id: str, receipt: str | None, sealed: str | None) -> str | None:
    """The choice the receipt opens the seal to; None without a receipt or for a wrong one."""
    if not receipt or not sealed:
        return None
    for choice in tally.CHOICES:
        if hmac.compare_digest(seal(vote_id, entry_id, receipt, choice), sealed):
            return choice
    return None


async def my_ballots(pool: Pool, *, compound_id: uuid.UUID, vote_id: uuid.UUID,
                     person_id: uuid.UUID, receipt: str | None) -> MyBallots:
    """The caller's own entries on the frozen roll and what they voted (nobody else's)."""
    async with pool.acquire() as conn:
        vote = problems.owned(await store.get_vote(conn, id=vote_id), compound_id, "表决")
        rows = await store.my_ballots(conn, vote_id=vote_id, person_id=person_id,
                                      secret=counting.keeps_participation(vote))
    if not rows:
        raise problems.Problem(403, "not-on-roll", "不在表决名册上",
                               "你不在本次表决冻结的业主名册上, 没有选票")
    entries = [MyBallot(entry_id=r["entry_id"], area_centi=r["area_centi"],
                        voted=r["channel"] is not None, channel=r["channel"], cast_at=r["cast_at"],
                        choice=r["choice"] or opened(vote_id, r["entry_id"], receipt, r["seal"]))
               for r in rows]
    return MyBallots(vote_id=vote_id, secret=vote["secret"], entries=entries)
