"""Splitting a shared cost in integer fen: exact shares, largest remainder, plans compared."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.meetings.costs.allocation import (
    Beneficiary,
    ByArea,
    ByFloorBand,
    ByUsage,
    Equal,
    Method,
    Weighted,
    compare,
    method_from_dict,
    method_to_dict,
    split,
)


def unit(unit_id: str, area: int = 10000, floor: int = 1, usage: int | None = None) -> Beneficiary:
    return Beneficiary(unit_id, area, floor, usage)


def test_uneven_equal_split_is_deterministic() -> None:
    units = [unit("c"), unit("a"), unit("b")]
    assert split(100, units, Equal()) == {"a": 34, "b": 33, "c": 33}
    assert split(100, list(reversed(units)), Equal()) == {"a": 34, "b": 33, "c": 33}


def test_tie_on_remainder_goes_to_the_larger_exact_share() -> None:
    # Exact amounts 0.5 and 1.5: same remainder, so the larger share takes the fen, not "a".
    assert split(2, [unit("a", area=1), unit("b", area=3)], ByArea()) == {"a": 0, "b": 2}


def test_by_area() -> None:
    assert split(1000, [unit("a", area=8000), unit("b", area=12000)], ByArea()) == {
        "a": 400, "b": 600,
    }


def test_by_usage_with_a_missing_reading() -> None:
    units = [unit("a", usage=300), unit("b", usage=100), unit("c")]
    assert split(1000, units, ByUsage()) == {"a": 750, "b": 250, "c": 0}


def test_usage_in_decimal_is_exact() -> None:
    units = [Beneficiary("a", 1, 1, Decimal("0.1")), Beneficiary("b", 1, 1, Decimal("0.2"))]
    assert split(300, units, ByUsage()) == {"a": 100, "b": 200}


def test_by_usage_all_zero_is_rejected() -> None:
    with pytest.raises(ValueError, match="用量均为零"):
        split(1000, [unit("a", usage=0), unit("b")], ByUsage())


def test_by_floor_band() -> None:
    bands = ByFloorBand(bands=((1, 3, 1), (4, 6, 2)))
    units = [unit("201", floor=2), unit("501", floor=5), unit("601", floor=6)]
    assert split(1000, units, bands) == {"201": 200, "501": 400, "601": 400}
    with pytest.raises(ValueError, match="第 7 层不在任何楼层区间内"):
        split(1000, [*units, unit("701", floor=7)], bands)
    with pytest.raises(ValueError, match="重叠"):
        ByFloorBand(bands=((1, 3, 1), (3, 6, 2)))


def test_weighted_half_area_half_usage_rounds_once() -> None:
    units = [unit("a", area=10000, usage=300), unit("b", area=30000, usage=100)]
    half = Fraction(1, 2)
    mix = Weighted(parts=((ByArea(), half), (ByUsage(), half)))
    # Shares 1/2 each: 500.5 fen each, the single leftover fen goes to "a" by unit_id.
    assert split(1001, units, mix) == {"a": 501, "b": 500}


def test_weights_not_summing_to_one_are_rejected() -> None:
    with pytest.raises(ValueError, match="权重之和必须等于 1"):
        Weighted(parts=((ByArea(), Fraction(1, 2)), (ByUsage(), Fraction(1, 3))))
    bad = {"method": "weighted", "parts": [{"method": "area", "weight": "0.5"},
                                           {"method": "usage", "weight": "0.4"}]}
    with pytest.raises(ValueError, match="权重之和必须等于 1"):
        method_from_dict(bad)


def test_negative_bill_rejected_and_zero_bill_gives_zeros() -> None:
    units = [unit("a"), unit("b")]
    with pytest.raises(ValueError, match="非负整数"):
        split(-1, units, Equal())
    assert split(0, units, ByArea()) == {"a": 0, "b": 0}


def test_units_are_checked() -> None:
    with pytest.raises(ValueError, match="不能为空"):
        split(100, [], Equal())
    with pytest.raises(ValueError, match="重复"):
        split(100, [unit("a"), unit("a")], Equal())


def test_method_round_trips_through_json() -> None:
    data = {"method": "weighted", "parts": [{"method": "area", "weight": "1/2"},
                                            {"method": "usage", "weight": "0.5"}]}
    method = method_from_dict(data)
    assert method == Weighted(parts=((ByArea(), Fraction(1, 2)), (ByUsage(), Fraction(1, 2))))
    assert method_to_dict(method)["parts"][1] == {"method": "usage", "weight": "1/2"}
    bands = {"method": "floor_band", "bands": [{"from_floor": -1, "to_floor": 3, "weight": 1},
                                               {"from_floor": 4, "to_floor": 9, "weight": "3/2"}]}
    for d in (data, bands, {"method": "equal"}):
        m = method_from_dict(d)
        assert method_from_dict(json.loads(json.dumps(method_to_dict(m)))) == m


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"method": "cubic"}, "未知的分摊方式"),
        ({"method": "area", "colour": 1}, "不接受字段"),
        ({"method": "weighted", "parts": [{"method": "area"}]}, "必须给出权重"),
        ({"method": "weighted", "parts": [{"method": "area", "weight": "half"}]}, "无效的权重"),
        ({"method": "weighted", "parts": [{"method": "area", "weight": 0.5},
                                          {"method": "usage", "weight": 0.5}]}, "字符串"),
        ({"method": "weighted", "parts": [{"method": "area", "weight": "1/0"}]}, "无效的权重"),
        ({"method": "weighted", "parts": [{"method": "area", "weight": "-1"},
                                          {"method": "usage", "weight": "2"}]}, "负数"),
        ({"method": "weighted", "parts": []}, "非空数组"),
        ({"method": "floor_band", "bands": [{"from_floor": 1, "to_floor": "3", "weight": 1}]},
         "整数"),
        ({"method": "floor_band", "bands": [{"from_floor": 5, "to_floor": 3, "weight": 1}]},
         "无效的楼层区间"),
    ],
)
def test_invalid_method_json_is_rejected(data: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        method_from_dict(data)


def test_compare_plans_unit_by_unit() -> None:
    units = [unit("a", area=10000, usage=100), unit("b", area=30000, usage=100)]
    table = compare(1000, units, {"equal": Equal(), "area": ByArea()})
    assert table["baseline"] == "equal"
    assert table["totals"] == {"equal": 1000, "area": 1000}
    a, b = table["rows"]
    assert a == {"unit_id": "a", "amounts": {"equal": 500, "area": 250},
                 "diff": {"equal": 0, "area": -250}}
    assert b == {"unit_id": "b", "amounts": {"equal": 500, "area": 750},
                 "diff": {"equal": 0, "area": 250}}
    assert table["plans"]["area"] == {"method": "area"}
    assert compare(1000, units, {"equal": Equal(), "usage": ByUsage()}, baseline="usage")[
        "rows"][0]["diff"] == {"equal": 0, "usage": 0}
    with pytest.raises(ValueError, match="基准方案不存在"):
        compare(1000, units, {"equal": Equal()}, baseline="area")
    json.dumps(table)


# --- property: any split sums to the bill and stays within a fen of its exact share ---------

units_st = st.lists(
    st.builds(
        Beneficiary,
        unit_id=st.text("abcdefgh", min_size=1, max_size=3),
        area_centi=st.integers(0, 200000),
        floor=st.integers(-2, 30),
        usage=st.none() | st.integers(0, 10**6),
    ),
    min_size=1, max_size=10, unique_by=lambda u: u.unit_id,
)


@st.composite
def floor_bands(draw: st.DrawFn) -> ByFloorBand:
    cuts = sorted(draw(st.sets(st.integers(-1, 30), max_size=4)))
    starts = [-2, *cuts]
    ends = [c - 1 for c in cuts] + [30]
    weights = draw(st.lists(st.integers(0, 5), min_size=len(starts), max_size=len(starts)))
    return ByFloorBand(bands=tuple(zip(starts, ends, weights, strict=True)))


plain: list[Method] = [Equal(), ByArea(), ByUsage()]
simple_st: st.SearchStrategy[Method] = st.sampled_from(plain) | floor_bands()


@st.composite
def weighted(draw: st.DrawFn) -> Weighted:
    methods = draw(st.lists(simple_st, min_size=1, max_size=3))
    raw = draw(st.lists(st.integers(0, 7), min_size=len(methods), max_size=len(methods)))
    if sum(raw) == 0:
        raw[0] = 1
    return Weighted(parts=tuple((m, Fraction(w, sum(raw))) for m, w in zip(methods, raw,
                                                                          strict=True)))


def plain_weight(u: Beneficiary, method: Method) -> int | Decimal:
    if isinstance(method, Equal):
        return 1
    return u.area_centi if isinstance(method, ByArea) else u.usage or 0


def reference_shares(units: list[Beneficiary], method: Method) -> dict[str, Fraction] | None:
    """Each unit's exact share, or None where the method cannot split (all weights zero)."""
    if isinstance(method, Weighted):
        total = {u.unit_id: Fraction(0) for u in units}
        for part, weight in method.parts:
            sub = reference_shares(units, part) if weight else {}
            if sub is None:
                return None
            for key, share in sub.items():
                total[key] += Fraction(weight) * share
        return total
    if isinstance(method, ByFloorBand):
        raw = {u.unit_id: next(Fraction(w) for lo, hi, w in method.bands if lo <= u.floor <= hi)
               for u in units}
    else:
        raw = {u.unit_id: Fraction(plain_weight(u, method)) for u in units}
    whole = sum(raw.values())
    return None if whole == 0 else {key: value / whole for key, value in raw.items()}


@given(st.integers(0, 10**9), units_st, simple_st | weighted())
def test_any_split_sums_to_the_bill_within_a_fen(
    total: int, units: list[Beneficiary], method: Method
) -> None:
    expected = reference_shares(units, method)
    if expected is None:
        with pytest.raises(ValueError):
            split(total, units, method)
        return
    amounts = split(total, units, method)
    assert sum(amounts.values()) == total
    assert set(amounts) == {u.unit_id for u in units}
    for unit_id, amount in amounts.items():
        assert amount >= 0
        assert abs(amount - total * expected[unit_id]) < 1
    assert split(total, list(reversed(units)), method) == amounts
