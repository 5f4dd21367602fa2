"""Request and response types of votes, ballots, turnout and results (msgspec Structs)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec

from linli.formats import INT32_MAX, exact

Rule = Literal["civil_code_major", "civil_code_ordinary", "simple_majority", "consensus"]
Choice = Literal["agree", "oppose", "abstain"]
# an exact fraction such as "1/2" or "2/3" (never a float)
Fraction = Annotated[str, msgspec.Meta(pattern=exact(r"[0-9]{1,6}/[0-9]{1,6}"), examples=["1/2"])]
EntryId = Annotated[str, msgspec.Meta(min_length=1, max_length=2_000)]
PersonName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"\S")]


class VoteIn(msgspec.Struct, forbid_unknown_fields=True):
    closes_at: dt.datetime
    version: Annotated[int, msgspec.Meta(ge=1, le=INT32_MAX)] | None = None
    rule: Rule | None = None
    secret: bool = False
    quorum: Fraction | None = None


class RollSummary(msgspec.Struct):
    entries: int
    area_centi: int
    headcount: int


class Vote(msgspec.Struct):
    id: uuid.UUID
    proposal_id: uuid.UUID
    compound_id: uuid.UUID
    version: int
    rule: str
    quorum: str | None
    status: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    closed_at: dt.datetime | None
    secret: bool
    outcome: str | None
    roll: RollSummary
    cancelled_at: dt.datetime | None = None
    cancel_reason: str | None = None
    seats: int | None = None  # a committee election: the seats to fill



class VoteCancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"\S")]


class BallotIn(msgspec.Struct, forbid_unknown_fields=True):
    choice: Choice
    # only needed by an owner on several roll entries (e.g. one unit alone, one with a spouse)
    entry_id: EntryId | None = None


class PaperBallotIn(msgspec.Struct, forbid_unknown_fields=True):
    choice: Choice
    person_id: uuid.UUID | None = None
    entry_id: EntryId | None = None  # for entries without a registered owner (developer)
    proxy_name: PersonName | None = None


class Ballot(msgspec.Struct):
    """The receipt of a ballot. A secret ballot's receipt does not repeat the choice."""

    vote_id: uuid.UUID
    entry_id: str
    channel: str
    changed: bool
    choice: str | None = None
    marks: dict[str, str] | None = None  # an open election: candidate -> choice
    # a secret ballot cast online: the voter's own key to read their choice back later
    # (GET …/ballots/mine with X-Ballot-Receipt); kept nowhere by the service
    receipt: str | None = None


class MyBallot(msgspec.Struct):
    """One of the caller's roll entries and their ballot on it."""

    entry_id: str
    area_centi: int
    voted: bool
    channel: str | None = None
    cast_at: dt.datetime | None = None
    # an open vote: the choice; a secret vote: only with the ballot's receipt, else null
    choice: str | None = None


class MyBallots(msgspec.Struct):
    vote_id: uuid.UUID
    secret: bool
    entries: list[MyBallot]


class Turnout(msgspec.Struct):
    vote_id: uuid.UUID
    status: str
    ballots: int
    participating_area_centi: int
    participating_headcount: int
    total_area_centi: int
    total_headcount: int
    by_channel: dict[str, int]


class EnteredBallot(msgspec.Struct):
    """Audit of a paper or proxy ballot: who entered it, for whom; the choice only if open."""

    entry_id: str
    channel: str
    cast_by: str
    entered_by: str
    proxy_name: str | None
    cast_at: dt.datetime
    choice: str | None = None


class NonVoters(msgspec.Struct):
    vote_id: uuid.UUID
    person_ids: list[uuid.UUID]
    entry_ids: list[str]


class VoteResult(msgspec.Struct):
    vote_id: uuid.UUID
    proposal_id: uuid.UUID
    compound_id: uuid.UUID
    version: int
    rule: str
    secret: bool
    status: str
    final: bool  # false: a provisional count of an open (not secret) vote
    outcome: str  # "passed" | "rejected"
    result: dict[str, Any]  # tally.TallyResult.to_dict(): thresholds with needed/reached
    closed_at: dt.datetime | None = None


class RollEntryIn(msgspec.Struct):
    """One entry of the directory's roll (GET /v1/compounds/{cid}/roll)."""

    entry_id: str
    kind: str
    owner_ids: list[uuid.UUID]
    unit_ids: list[uuid.UUID]
    area_centi: int
    headcount: int


class RollIn(msgspec.Struct):
    compound_id: uuid.UUID
    total_area_centi: int
    total_headcount: int
    entries: list[RollEntryIn]


class CandidateIn(msgspec.Struct, forbid_unknown_fields=True):
    person_id: uuid.UUID  # an owner on the roll
    name: PersonName


class ElectionIn(msgspec.Struct, forbid_unknown_fields=True):
    """A committee election (民法典第278条第3项) on a proposal of matter art278_3."""

    closes_at: dt.datetime
    seats: int
    candidates: Annotated[list[CandidateIn], msgspec.Meta(min_length=1, max_length=100)]
    version: Annotated[int, msgspec.Meta(ge=1)] | None = None
    secret: bool = False
    # 补选: the seats left open mid-term (any number up to the largest committee), not a
    # whole committee's odd number
    by_election: bool = False


class Candidate(msgspec.Struct):
    person_id: uuid.UUID
    name: str
    position: int


class Election(msgspec.Struct):
    vote: Vote
    seats: int
    candidates: list[Candidate]


CandidateList = Annotated[list[uuid.UUID], msgspec.Meta(max_length=100)]


class ElectionBallotIn(msgspec.Struct, forbid_unknown_fields=True):
    """Approve at most as many candidates as seats; oppose some; the rest are abstentions."""

    approve: CandidateList
    oppose: CandidateList = []
    entry_id: EntryId | None = None


class PaperElectionBallotIn(msgspec.Struct, forbid_unknown_fields=True):
    approve: CandidateList
    oppose: CandidateList = []
    person_id: uuid.UUID | None = None
    entry_id: EntryId | None = None
    proxy_name: PersonName | None = None
