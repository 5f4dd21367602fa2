"""Owners' vote tally (民法典 Art. 278; 建筑物区分所有权司法解释 Arts. 8–9).

Pure and exact. Areas are integer hundredths of m² and every comparison is an integer
cross-multiplication (3 * reached >= 2 * base), never a float: a vote that passes or fails by
one hundredth of a square metre must come out the same on every machine and in every recount.

The roll is frozen when the vote opens. Each roll entry already applies the counting rules of
Arts. 8–9: one buyer owning several units is one entry (headcount 1, summed area); co-owners of
one unit are one entry; the developer's unsold or undelivered units are one entry together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from fractions import Fraction
from typing import Any, Final

AGREE: Final = "agree"
OPPOSE: Final = "oppose"
ABSTAIN: Final = "abstain"
CHOICES: Final = (AGREE, OPPOSE, ABSTAIN)

CIVIL_CODE_MAJOR: Final = "civil_code_major"  # Art. 278 items 6–8
CIVIL_CODE_ORDINARY: Final = "civil_code_ordinary"  # every other item of Art. 278
SIMPLE_MAJORITY: Final = "simple_majority"  # council business that is not a statutory vote
CONSENSUS: Final = "consensus"
RULES: Final = (CIVIL_CODE_MAJOR, CIVIL_CODE_ORDINARY, SIMPLE_MAJORITY, CONSENSUS)

PASSED: Final = "passed"
FAILED_QUORUM: Final = "failed_quorum"
FAILED_APPROVAL: Final = "failed_approval"

TWO_THIRDS: Final = Fraction(2, 3)
THREE_QUARTERS: Final = Fraction(3, 4)
HALF: Final = Fraction(1, 2)


def _is_int(value: object) -> bool:
    # bool is an int subclass; True must not pass for one hundredth of a square metre.
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class RollEntry:
    """One line of the frozen roll: who may vote, with what area and what headcount."""

    entry_id: str
    area_centi: int
    headcount: int = 1

    def __post_init__(self) -> None:
        if not self.entry_id:
            raise ValueError("名册条目编号不能为空")
        if not _is_int(self.area_centi) or self.area_centi < 0:
            raise ValueError(f"名册条目 {self.entry_id} 的面积必须是非负整数（单位：0.01 平方米）")
        if not _is_int(self.headcount) or self.headcount < 1:
            raise ValueError(f"名册条目 {self.entry_id} 的人数必须是正整数")


@dataclass(frozen=True)
class Roll:
    """The frozen roll. Totals are the sums of the entries (司法解释 Arts. 8–9) and are checked."""

    entries: tuple[RollEntry, ...]
    total_area_centi: int
    total_headcount: int
    _index: dict[str, RollEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        entries = tuple(self.entries)
        index: dict[str, RollEntry] = {}
        for entry in entries:
            if entry.entry_id in index:
                raise ValueError(f"名册条目编号重复：{entry.entry_id}")
            index[entry.entry_id] = entry
        if not index:
            raise ValueError("名册不能为空")
        if self.total_area_centi != sum(e.area_centi for e in entries):
            raise ValueError("名册总面积与各条目面积之和不一致")
        if self.total_headcount != sum(e.headcount for e in entries):
            raise ValueError("名册总人数与各条目人数之和不一致")
        if self.total_area_centi <= 0:
            raise ValueError("名册总面积必须大于零")
        object.__setattr__(self, "entries", entries)
        object.__setattr__(self, "_index", index)

    @classmethod
    def of(cls, entries: Iterable[RollEntry]) -> Roll:
        """Build a roll whose totals are computed from its entries."""
        items = tuple(entries)
        total_area = sum(e.area_centi for e in items)
        return cls(items, total_area, sum(e.headcount for e in items))

    def entry(self, entry_id: str) -> RollEntry:
        """The entry with this id; a ValueError if it is not on the roll."""
        try:
            return self._index[entry_id]
        except KeyError:
            raise ValueError(f"该选票对应的条目不在冻结名册上：{entry_id}") from None


@dataclass(frozen=True)
class Counts:
    """What was cast, by area and by headcount, against the roll totals."""

    total_area_centi: int
    total_headcount: int
    agree_area_centi: int = 0
    agree_headcount: int = 0
    oppose_area_centi: int = 0
    oppose_headcount: int = 0
    abstain_area_centi: int = 0
    abstain_headcount: int = 0
    ballots: int = 0

    def __post_init__(self) -> None:
        values = [getattr(self, f.name) for f in fields(self)]
        if any(not _is_int(v) or v < 0 for v in values):
            raise ValueError("计票数必须是非负整数")
        if self.participating_area_centi > self.total_area_centi:
            raise ValueError("参与表决的面积不能超过名册总面积")
        if self.participating_headcount > self.total_headcount:
            raise ValueError("参与表决的人数不能超过名册总人数")

    @property
    def participating_area_centi(self) -> int:
        """Area that took part: abstaining counts as taking part."""
        return self.agree_area_centi + self.oppose_area_centi + self.abstain_area_centi

    @property
    def participating_headcount(self) -> int:
        """Headcount that took part: abstaining counts as taking part."""
        return self.agree_headcount + self.oppose_headcount + self.abstain_headcount

    def to_dict(self) -> dict[str, int]:
        """Plain JSON-ready dict, participating totals included."""
        out = {f.name: int(getattr(self, f.name)) for f in fields(self)}
        out["participating_area_centi"] = self.participating_area_centi
        out["participating_headcount"] = self.participating_headcount
        return out


@dataclass(frozen=True)
class Threshold:
    """One test of the rule: is `reached` (comparison) `ratio` x `base`?

    `needed` is the smallest integer `reached` that would meet it, so people can read
    "needed 6667, reached 6666" instead of a fraction.
    """

    name: str
    comparison: str
    ratio: Fraction
    base: int
    reached: int
    needed: int
    met: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict; the ratio is a string such as "2/3"."""
        return {
            "name": self.name,
            "comparison": self.comparison,
            "ratio": str(self.ratio),
            "base": self.base,
            "needed": self.needed,
            "reached": self.reached,
            "met": self.met,
        }


def check(name: str, comparison: str, ratio: Fraction, reached: int, base: int) -> Threshold:
    """Compare `reached` against `ratio` of `base` exactly, with integers only."""
    lhs, rhs = reached * ratio.denominator, base * ratio.numerator
    if comparison == ">=":
        met, needed = lhs >= rhs, -(-rhs // ratio.denominator)
    elif comparison == ">":
        met, needed = lhs > rhs, rhs // ratio.denominator + 1
    else:
        raise ValueError(f"不支持的比较方式：{comparison}")
    return Threshold(name, comparison, ratio, base, reached, needed, met)


@dataclass(frozen=True)
class TallyResult:
    """The outcome of a vote, with every threshold it was judged by and the counts."""

    rule: str
    quorum: Fraction | None
    outcome: str
    thresholds: tuple[Threshold, ...]
    counts: Counts

    @property
    def passed(self) -> bool:
        """True when the proposal was adopted."""
        return self.outcome == PASSED

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict, to store and to publish in an event."""
        return {
            "rule": self.rule,
            "quorum": None if self.quorum is None else str(self.quorum),
            "outcome": self.outcome,
            "thresholds": [t.to_dict() for t in self.thresholds],
            "counts": self.counts.to_dict(),
        }


def count_ballots(roll: Roll, ballots: Mapping[str, str]) -> Counts:
    """Add up ballots (entry_id -> choice) against the roll, by area and by headcount."""
    area = dict.fromkeys(CHOICES, 0)
    heads = dict.fromkeys(CHOICES, 0)
    for entry_id, choice in ballots.items():
        entry = roll.entry(entry_id)
        if choice not in area:
            raise ValueError(f"无效的表决意见：{choice!r}（应为 agree、oppose 或 abstain）")
        area[choice] += entry.area_centi
        heads[choice] += entry.headcount
    return Counts(
        total_area_centi=roll.total_area_centi,
        total_headcount=roll.total_headcount,
        agree_area_centi=area[AGREE],
        agree_headcount=heads[AGREE],
        oppose_area_centi=area[OPPOSE],
        oppose_headcount=heads[OPPOSE],
        abstain_area_centi=area[ABSTAIN],
        abstain_headcount=heads[ABSTAIN],
        ballots=len(ballots),
    )


def _civil_code(c: Counts, major: bool) -> tuple[list[Threshold], list[Threshold]]:
    participation = [
        check("participation_area", ">=", TWO_THIRDS, c.participating_area_centi,
              c.total_area_centi),
        check("participation_headcount", ">=", TWO_THIRDS, c.participating_headcount,
              c.total_headcount),
    ]
    ratio, comparison = (THREE_QUARTERS, ">=") if major else (HALF, ">")
    approval = [
        check("approval_area", comparison, ratio, c.agree_area_centi, c.participating_area_centi),
        check("approval_headcount", comparison, ratio, c.agree_headcount,
              c.participating_headcount),
    ]
    return participation, approval


def _council(
    c: Counts, rule: str, quorum: Fraction | None
) -> tuple[list[Threshold], list[Threshold]]:
    heads = c.participating_headcount
    if rule == SIMPLE_MAJORITY:
        participation = [] if quorum is None else [
            check("participation_headcount", ">=", quorum, heads, c.total_headcount)
        ]
        return participation, [check("approval_headcount", ">", HALF, c.agree_headcount, heads)]
    # Consensus: someone must have voted (> 0 of the roll), and every voter did not oppose.
    return (
        [check("participation_headcount", ">", Fraction(0), heads, c.total_headcount)],
        [check("no_opposition", ">=", Fraction(1), heads - c.oppose_headcount, heads)],
    )


def _validate_rule(rule: str, quorum: Fraction | None) -> None:
    if rule not in RULES:
        raise ValueError(f"未知的表决规则：{rule!r}")
    if quorum is None:
        return
    if rule != SIMPLE_MAJORITY:
        raise ValueError("只有简单多数规则可以另设参与比例；法定表决的参与比例由民法典规定")
    if not isinstance(quorum, (int, Fraction)) or isinstance(quorum, bool):
        raise ValueError("参与比例必须是精确分数，例如 Fraction(1, 2)")
    if not 0 <= quorum <= 1:
        raise ValueError("参与比例必须在 0 到 1 之间")


def decide(counts: Counts, rule: str, quorum: Fraction | None = None) -> TallyResult:
    """Judge counts under a rule. Usable directly for secret votes counted without entry ids."""
    _validate_rule(rule, quorum)
    quorum = None if quorum is None else Fraction(quorum)
    if rule in (CIVIL_CODE_MAJOR, CIVIL_CODE_ORDINARY):
        participation, approval = _civil_code(counts, rule == CIVIL_CODE_MAJOR)
    else:
        participation, approval = _council(counts, rule, quorum)
    if not all(t.met for t in participation):
        outcome = FAILED_QUORUM
    elif not all(t.met for t in approval):
        outcome = FAILED_APPROVAL
    else:
        outcome = PASSED
    return TallyResult(rule, quorum, outcome, (*participation, *approval), counts)


def tally(
    roll: Roll, ballots: Mapping[str, str], rule: str, quorum: Fraction | None = None
) -> TallyResult:
    """Tally ballots (entry_id -> "agree" | "oppose" | "abstain") on a frozen roll.

    Raises ValueError for a ballot off the roll, an unknown choice or rule, or a quorum
    given for a statutory rule (whose participation thresholds the law fixes).
    """
    return decide(count_ballots(roll, ballots), rule, quorum)


@dataclass(frozen=True)
class Turnout:
    """Live turnout: who has taken part so far, by area and by headcount."""

    ballots: int
    participating_area_centi: int
    participating_headcount: int
    total_area_centi: int
    total_headcount: int

    def to_dict(self) -> dict[str, int]:
        """Plain JSON-ready dict."""
        return {f.name: int(getattr(self, f.name)) for f in fields(self)}


def turnout(roll: Roll, voted: Iterable[str]) -> Turnout:
    """Participating area and headcount for the entries that voted.

    Takes entry ids only (a ballots mapping works too), so a secret vote can report turnout
    from its who-voted list without touching what was voted.
    """
    seen: set[str] = set()
    area = heads = 0
    for entry_id in voted:
        entry = roll.entry(entry_id)
        if entry_id in seen:
            raise ValueError(f"同一名册条目重复投票：{entry_id}")
        seen.add(entry_id)
        area += entry.area_centi
        heads += entry.headcount
    return Turnout(len(seen), area, heads, roll.total_area_centi, roll.total_headcount)
