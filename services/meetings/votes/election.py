"""Electing the owners' committee (民法典 Art. 278 item 3): a multi-seat election, exact.

Every candidate is judged on their own by the item-3 rule of tally.py (participation ≥ 2/3 of
the area AND of the headcount; approval > 1/2 of the participating area AND headcount), so the
thresholds, their `needed` values and the integer arithmetic are the tally's, never a copy.

A ballot marks each candidate agree, oppose or abstain and approves at most as many candidates
as there are seats; a candidate the ballot leaves unmarked counts as abstain (the owner took part
in the election). Seats go to the qualifying candidates by approving headcount, then approving
area; an exact tie across the last seat is reported (seats left open, the tied named), never
broken here: the compound's rules decide it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from services.meetings.votes.tally import (
    ABSTAIN,
    AGREE,
    CHOICES,
    CIVIL_CODE_ORDINARY,
    Counts,
    Roll,
    TallyResult,
    decide,
)

COMMITTEE_ELECTION: Final = "committee_election"
SEATS_MIN: Final = 5
SEATS_MAX: Final = 11

COMPLETE: Final = "complete"  # every seat filled
TIE: Final = "tie"  # an exact tie across the last seat: seats left open, the tied named
TOO_FEW_QUALIFIED: Final = "too_few_qualified"  # fewer qualifying candidates than seats

ELECTED: Final = "elected"
TIED: Final = "tied"
RUNNER_UP: Final = "runner_up"  # qualified, but ranked below the last seat
NOT_QUALIFIED: Final = "not_qualified"


def validate_seats(seats: int, lowest: int = SEATS_MIN, highest: int = SEATS_MAX) -> None:
    """Seats are an odd number within the configured range (5–11 by default)."""
    if lowest > highest or lowest < 1:
        raise ValueError(f"席位范围设置无效：{lowest}–{highest}")
    if isinstance(seats, bool) or not isinstance(seats, int) or seats % 2 == 0:
        raise ValueError("业主委员会的席位数必须是奇数")
    if not lowest <= seats <= highest:
        raise ValueError(f"业主委员会的席位数必须在 {lowest} 到 {highest} 之间")


def validate_candidates(candidates: Sequence[str], seats: int) -> None:
    if len(set(candidates)) != len(candidates):
        raise ValueError("候选人名单有重复")
    if len(candidates) < seats:
        raise ValueError(f"候选人人数 ({len(candidates)}) 不能少于席位数 ({seats})")


def complete_ballot(marks: Mapping[str, str], candidates: Sequence[str],
                    seats: int) -> dict[str, str]:
    """Check one ballot and mark every candidate (unmarked = abstain).

    Raises ValueError for an unknown candidate or choice, or more approvals than seats.
    """
    known = set(candidates)
    for candidate, choice in marks.items():
        if candidate not in known:
            raise ValueError(f"选票上的候选人不在候选人名单中：{candidate}")
        if choice not in CHOICES:
            raise ValueError(f"无效的表决意见：{choice!r}（应为 agree、oppose 或 abstain）")
    approvals = sum(1 for choice in marks.values() if choice == AGREE)
    if approvals > seats:
        raise ValueError(f"每张选票最多赞成 {seats} 名候选人，这张选票赞成了 {approvals} 名")
    return {c: marks.get(c, ABSTAIN) for c in candidates}


def count_election(roll: Roll, ballots: Mapping[str, Mapping[str, str]],
                   candidates: Sequence[str], seats: int) -> dict[str, Counts]:
    """Per candidate, what was cast by area and headcount (entry_id -> {candidate: choice})."""
    area = {c: dict.fromkeys(CHOICES, 0) for c in candidates}
    heads = {c: dict.fromkeys(CHOICES, 0) for c in candidates}
    for entry_id, marks in ballots.items():
        entry = roll.entry(entry_id)
        for candidate, choice in complete_ballot(marks, candidates, seats).items():
            area[candidate][choice] += entry.area_centi
            heads[candidate][choice] += entry.headcount
    return {c: Counts(total_area_centi=roll.total_area_centi,
                      total_headcount=roll.total_headcount,
                      **{f"{k}_area_centi": area[c][k] for k in CHOICES},
                      **{f"{k}_headcount": heads[c][k] for k in CHOICES},
                      ballots=len(ballots)) for c in candidates}


@dataclass(frozen=True)
class CandidateResult:
    """One candidate: the item-3 judgement (thresholds with base, needed, reached) and the seat."""

    candidate: str
    status: str
    judgement: TallyResult

    @property
    def qualified(self) -> bool:
        return self.judgement.passed

    @property
    def rank_key(self) -> tuple[int, int]:
        """Approving headcount, then approving area: the order seats are given in."""
        counts = self.judgement.counts
        return counts.agree_headcount, counts.agree_area_centi

    def to_dict(self) -> dict[str, Any]:
        counts = self.judgement.counts
        return {"candidate": self.candidate, "status": self.status,
                "qualified": self.qualified, "outcome": self.judgement.outcome,
                "approving_headcount": counts.agree_headcount,
                "approving_area_centi": counts.agree_area_centi,
                "thresholds": [t.to_dict() for t in self.judgement.thresholds],
                "counts": counts.to_dict()}


@dataclass(frozen=True)
class ElectionResult:
    seats: int
    outcome: str
    elected: tuple[str, ...]
    tied: tuple[str, ...]
    open_seats: int
    candidates: tuple[CandidateResult, ...]  # in rank order: qualified first, then the rest

    @property
    def complete(self) -> bool:
        return self.outcome == COMPLETE

    def to_dict(self) -> dict[str, Any]:
        return {"rule": COMMITTEE_ELECTION, "seats": self.seats, "outcome": self.outcome,
                "elected": list(self.elected), "tied": list(self.tied),
                "open_seats": self.open_seats,
                "candidates": [c.to_dict() for c in self.candidates]}


def _seat(qualified: list[TallyResult], seats: int,
          names: list[str]) -> tuple[list[str], list[str]]:
    """Elected and tied among qualified candidates already sorted best first."""
    keys = [(r.counts.agree_headcount, r.counts.agree_area_centi) for r in qualified]
    if len(qualified) <= seats:
        return names, []
    last = keys[seats - 1]
    above = [n for n, k in zip(names, keys, strict=True) if k > last]
    level = [n for n, k in zip(names, keys, strict=True) if k == last]
    if len(above) + len(level) <= seats:
        return above + level, []
    return above, level


def decide_election(counts: Mapping[str, Counts], seats: int) -> ElectionResult:
    """Judge each candidate by the item-3 rule and give the seats (pure; secret totals work).
    `counts` is in ballot-paper order."""
    if not counts:
        raise ValueError("没有候选人")
    judged = {c: decide(k, CIVIL_CODE_ORDINARY) for c, k in counts.items()}
    # equals are listed in ballot-paper order (the order given); that order never seats anyone
    place = {c: i for i, c in enumerate(judged)}
    order = sorted(judged, key=lambda c: (not judged[c].passed,
                                          -judged[c].counts.agree_headcount,
                                          -judged[c].counts.agree_area_centi, place[c]))
    qualified = [c for c in order if judged[c].passed]
    elected, tied = _seat([judged[c] for c in qualified], seats, qualified)
    status = {c: NOT_QUALIFIED for c in order}
    status.update({c: RUNNER_UP for c in qualified})
    status.update({c: TIED for c in tied})
    status.update({c: ELECTED for c in elected})
    if len(elected) == seats:
        outcome = COMPLETE
    elif tied:
        outcome = TIE
    else:
        outcome = TOO_FEW_QUALIFIED
    return ElectionResult(seats, outcome, tuple(elected), tuple(tied), seats - len(elected),
                          tuple(CandidateResult(c, status[c], judged[c]) for c in order))


def elect(roll: Roll, ballots: Mapping[str, Mapping[str, str]], candidates: Sequence[str],
          seats: int, lowest: int = SEATS_MIN, highest: int = SEATS_MAX) -> ElectionResult:
    """Tally a committee election on a frozen roll (entry_id -> {candidate: choice})."""
    validate_seats(seats, lowest, highest)
    validate_candidates(candidates, seats)
    return decide_election(count_election(roll, ballots, candidates, seats), seats)
