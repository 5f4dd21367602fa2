"""Splitting a shared cost among its beneficiaries in integer fen (谁受益谁承担).

Pure and exact. Each unit's share is an exact Fraction; amounts are floored and the leftover
fen go out by largest remainder, so a split always sums exactly to the bill, no amount is off
its exact share by a whole fen, and the same inputs always give the same fen to the same unit.
Only beneficiaries pay: the units passed in are the beneficiaries.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeAlias, TypedDict


def _is_int(value: object) -> bool:
    # bool is an int subclass; a floor or an area of True is a bug upstream, not a value.
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Beneficiary:
    """A unit that benefits and so pays: area in 0.01 m², floor, optional metered usage."""

    unit_id: str
    area_centi: int
    floor: int
    usage: int | Decimal | None = None  # meter's smallest unit; None = no reading (counts 0)

    def __post_init__(self) -> None:
        if not self.unit_id:
            raise ValueError("受益单元编号不能为空")
        if not _is_int(self.area_centi) or self.area_centi < 0:
            raise ValueError(f"单元 {self.unit_id} 的面积必须是非负整数（单位：0.01 平方米）")
        if not _is_int(self.floor):
            raise ValueError(f"单元 {self.unit_id} 的楼层必须是整数")
        usage = self.usage
        exact = _is_int(usage) or (isinstance(usage, Decimal) and usage.is_finite())
        if usage is not None and (not exact or usage < 0):
            raise ValueError(f"单元 {self.unit_id} 的计量用量必须是非负整数或 Decimal")


@dataclass(frozen=True)
class Equal:
    """The same share for every beneficiary unit."""


@dataclass(frozen=True)
class ByArea:
    """Shares in proportion to registered exclusive floor area."""


@dataclass(frozen=True)
class ByUsage:
    """Shares in proportion to metered usage; a unit with no reading counts as 0."""


def _weight(value: object) -> Fraction:
    """An exact, non-negative weight from int, Fraction, Decimal or a string like "1/2"."""
    if isinstance(value, bool):
        raise ValueError(f"无效的权重：{value!r}")
    if isinstance(value, (int, Fraction, Decimal)):
        weight = Fraction(value)
    elif isinstance(value, str):
        try:
            weight = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"无效的权重：{value!r}（应为 \"1/2\" 或 \"0.5\" 这样的数）") from None
    else:
        # A float such as 0.1 is not exact; weights must then sum to 1 exactly, so refuse.
        raise ValueError(f"权重 {value!r} 须写成字符串（如 \"1/2\" 或 \"0.5\"）或整数")
    if weight < 0:
        raise ValueError(f"权重不能为负数：{value!r}")
    return weight


@dataclass(frozen=True)
class ByFloorBand:
    """Shares in proportion to the weight of the floor band (from_floor..to_floor, inclusive)."""

    bands: tuple[tuple[int, int, Fraction | int], ...]

    def __post_init__(self) -> None:
        bands = tuple((lo, hi, _weight(w)) for lo, hi, w in self.bands)
        if not bands:
            raise ValueError("按楼层区间分摊至少需要一个区间")
        for lo, hi, _ in bands:
            if not (_is_int(lo) and _is_int(hi)) or lo > hi:
                raise ValueError(f"无效的楼层区间：{lo}–{hi}")
        ordered = sorted(bands)
        for (_, prev_hi, _), (lo, hi, _) in itertools.pairwise(ordered):
            # A floor in two bands would have two weights; refuse rather than guess.
            if lo <= prev_hi:
                raise ValueError(f"楼层区间重叠：第 {lo}–{hi} 层与前一区间")
        object.__setattr__(self, "bands", bands)

    def weight_of(self, floor: int) -> Fraction:
        """The weight of the band holding this floor; ValueError if no band holds it."""
        for lo, hi, weight in self.bands:
            if lo <= floor <= hi:
                return Fraction(weight)
        raise ValueError(f"第 {floor} 层不在任何楼层区间内")


@dataclass(frozen=True)
class Weighted:
    """A mix of methods; the weights must sum to exactly 1."""

    parts: tuple[tuple[Method, Fraction | int], ...]

    def __post_init__(self) -> None:
        parts = tuple((method, _weight(w)) for method, w in self.parts)
        if not parts:
            raise ValueError("加权组合至少需要一种分摊方式")
        for method, _ in parts:
            if not isinstance(method, (Equal, ByArea, ByUsage, ByFloorBand, Weighted)):
                raise ValueError(f"未知的分摊方式：{method!r}")
        if sum(w for _, w in parts) != 1:
            raise ValueError("权重之和必须等于 1")
        object.__setattr__(self, "parts", parts)


Method: TypeAlias = Equal | ByArea | ByUsage | ByFloorBand | Weighted


def _normalise(weights: dict[str, Fraction], empty_message: str) -> dict[str, Fraction]:
    total = sum(weights.values(), Fraction(0))
    if total == 0:
        raise ValueError(empty_message)
    return {unit_id: w / total for unit_id, w in weights.items()}


def _check_units(units: Sequence[Beneficiary]) -> None:
    if not units:
        raise ValueError("受益单元不能为空")
    ids = [u.unit_id for u in units]
    if len(set(ids)) != len(ids):
        raise ValueError("受益单元编号重复")


def shares(units: Sequence[Beneficiary], method: Method) -> dict[str, Fraction]:
    """Each unit's exact share of the bill under a method; the shares sum to exactly 1."""
    _check_units(units)
    match method:
        case Equal():
            return {u.unit_id: Fraction(1, len(units)) for u in units}
        case ByArea():
            area = {u.unit_id: Fraction(u.area_centi) for u in units}
            return _normalise(area, "所有受益单元的面积均为零，无法按面积分摊")
        case ByUsage():
            usage = {u.unit_id: Fraction(u.usage or 0) for u in units}
            return _normalise(usage, "所有受益单元的计量用量均为零（或无读数），无法按用量分摊")
        case ByFloorBand():
            band = {u.unit_id: method.weight_of(u.floor) for u in units}
            return _normalise(band, "所有受益单元所在楼层区间的权重均为零，无法按楼层分摊")
        case Weighted():
            mixed = dict.fromkeys((u.unit_id for u in units), Fraction(0))
            for part, weight in method.parts:
                if weight == 0:
                    continue  # a part weighted 0 must not fail the split (e.g. no readings)
                for unit_id, share in shares(units, part).items():
                    mixed[unit_id] += Fraction(weight) * share
            return mixed
    raise ValueError(f"未知的分摊方式：{method!r}")


def largest_remainder(exact: Mapping[str, Fraction]) -> dict[str, int]:
    """Round exact amounts that sum to an integer into integers with the same sum.

    Floor each, then give the leftover units one each: larger remainder first, then larger
    exact amount, then key ascending, so the result never depends on input order.
    """
    amounts = {key: math.floor(value) for key, value in exact.items()}
    total = sum(exact.values(), Fraction(0))
    if total.denominator != 1:
        raise ValueError("精确金额之和必须是整数")
    leftover = int(total) - sum(amounts.values())
    order = sorted(exact, key=lambda k: (-(exact[k] - amounts[k]), -exact[k], k))
    for key in order[:leftover]:
        amounts[key] += 1
    return amounts


def split(total_fen: int, units: Sequence[Beneficiary], method: Method) -> dict[str, int]:
    """Split a bill of `total_fen` among the beneficiaries; amounts sum exactly to the bill."""
    if not _is_int(total_fen) or total_fen < 0:
        raise ValueError("账单金额必须是非负整数（单位：分）")
    exact = {unit_id: total_fen * s for unit_id, s in shares(units, method).items()}
    return largest_remainder(exact)


class CompareRow(TypedDict):
    """One unit's amount under each plan and its difference against the baseline plan."""

    unit_id: str
    amounts: dict[str, int]
    diff: dict[str, int]


class Comparison(TypedDict):
    """Candidate plans side by side, unit by unit."""

    total_fen: int
    baseline: str
    plans: dict[str, dict[str, Any]]
    totals: dict[str, int]
    rows: list[CompareRow]


def compare(
    total_fen: int,
    units: Sequence[Beneficiary],
    plans: Mapping[str, Method],
    baseline: str | None = None,
) -> Comparison:
    """Split the same bill under each plan; diff = amount - amount under the baseline plan.

    The baseline defaults to the first plan. Rows keep the order of `units`.
    """
    if not plans:
        raise ValueError("至少需要一个分摊方案")
    base = next(iter(plans)) if baseline is None else baseline
    if base not in plans:
        raise ValueError(f"基准方案不存在：{base}")
    results = {name: split(total_fen, units, method) for name, method in plans.items()}
    rows: list[CompareRow] = []
    for unit in units:
        amounts = {name: result[unit.unit_id] for name, result in results.items()}
        diff = {name: amount - amounts[base] for name, amount in amounts.items()}
        rows.append({"unit_id": unit.unit_id, "amounts": amounts, "diff": diff})
    return {
        "total_fen": total_fen,
        "baseline": base,
        "plans": {name: method_to_dict(method) for name, method in plans.items()},
        "totals": {name: sum(result.values()) for name, result in results.items()},
        "rows": rows,
    }


_FIELDS: dict[str, frozenset[str]] = {
    "equal": frozenset(),
    "area": frozenset(),
    "usage": frozenset(),
    "floor_band": frozenset({"bands"}),
    "weighted": frozenset({"parts"}),
}


def _items(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise ValueError(f"字段 {key} 必须是非空数组")
    return value


def _band(data: Any) -> tuple[int, int, Fraction]:
    if not isinstance(data, Mapping) or set(data) != {"from_floor", "to_floor", "weight"}:
        raise ValueError("每个楼层区间须含且仅含 from_floor、to_floor、weight 三个字段")
    lo, hi = data["from_floor"], data["to_floor"]
    if not (_is_int(lo) and _is_int(hi)):
        raise ValueError("楼层区间的 from_floor 和 to_floor 必须是整数")
    return lo, hi, _weight(data["weight"])


def _parse(data: Any, extra: frozenset[str]) -> Method:
    if not isinstance(data, Mapping):
        raise ValueError("分摊方式必须是 JSON 对象")
    name = data.get("method")
    allowed = _FIELDS.get(name) if isinstance(name, str) else None
    if allowed is None:
        choices = "、".join(_FIELDS)
        raise ValueError(f"未知的分摊方式：{name!r}（可选：{choices}）")
    unknown = set(data) - allowed - extra - {"method"}
    if unknown:
        raise ValueError(f"分摊方式 {name} 不接受字段：{'、'.join(sorted(map(str, unknown)))}")
    if name == "floor_band":
        return ByFloorBand(bands=tuple(_band(b) for b in _items(data, "bands")))
    if name == "weighted":
        return Weighted(parts=tuple(_part(p) for p in _items(data, "parts")))
    if name == "area":
        return ByArea()
    return ByUsage() if name == "usage" else Equal()


def _part(data: Any) -> tuple[Method, Fraction]:
    if not isinstance(data, Mapping) or "weight" not in data:
        raise ValueError("加权组合的每个组成部分都必须给出权重 weight")
    return _parse(data, frozenset({"weight"})), _weight(data["weight"])


def method_from_dict(data: Mapping[str, Any]) -> Method:
    """Parse a method from JSON, e.g. {"method": "weighted", "parts": [{"method": "area",
    "weight": "1/2"}, {"method": "usage", "weight": "1/2"}]}; ValueError (zh-CN) if invalid."""
    return _parse(data, frozenset())


def method_to_dict(method: Method) -> dict[str, Any]:
    """Serialise a method to the JSON shape `method_from_dict` reads; weights as "p/q"."""
    match method:
        case Equal():
            return {"method": "equal"}
        case ByArea():
            return {"method": "area"}
        case ByUsage():
            return {"method": "usage"}
        case ByFloorBand():
            bands = [{"from_floor": lo, "to_floor": hi, "weight": str(Fraction(w))}
                     for lo, hi, w in method.bands]
            return {"method": "floor_band", "bands": bands}
        case Weighted():
            parts = [{**method_to_dict(m), "weight": str(Fraction(w))} for m, w in method.parts]
            return {"method": "weighted", "parts": parts}
    raise ValueError(f"未知的分摊方式：{method!r}")
