"""How each line of a bill was reached, for the person who pays it: the figures of the unit
(area, floor, reading), each part of the plan with its weight and the unit's exact share under
it, the unit's exact share of the bill and its exact amount before rounding to the fen.

Pure and exact (Fractions, written "p/q"); it recomputes with allocation.shares, the function
that split the bill, so the explanation and the amounts cannot disagree."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from services.meetings.costs import allocation
from services.meetings.costs.models import BillBasis, LineBasis, PartShare

NAMES = {allocation.Equal: "equal", allocation.ByArea: "area", allocation.ByUsage: "usage",
         allocation.ByFloorBand: "floor_band", allocation.Weighted: "weighted"}


def text(value: Fraction) -> str:
    return str(value)  # "3/8", or "2" when whole


def _parts(method: allocation.Method) -> list[tuple[allocation.Method, Fraction]]:
    if isinstance(method, allocation.Weighted):
        return [(part, Fraction(weight)) for part, weight in method.parts]
    return [(method, Fraction(1))]


def _part_shares(units: Sequence[allocation.Beneficiary],
                 part: allocation.Method, weight: Fraction) -> dict[str, Fraction] | None:
    if weight == 0:
        return None  # a part weighted 0 took no part in the split (it may not even be defined)
    return allocation.shares(units, part)


def explain(total_fen: int, units: Sequence[allocation.Beneficiary],
            method: allocation.Method) -> tuple[BillBasis, dict[str, LineBasis]]:
    """The bill's totals and each unit's basis."""
    shares = allocation.shares(units, method)
    parts = [(part, weight, _part_shares(units, part, weight)) for part, weight in _parts(method)]
    usages = [Decimal(u.usage) for u in units if u.usage is not None]
    basis = BillBasis(units=len(units), area_centi=sum(u.area_centi for u in units),
                      usage=_decimal(sum(usages, Decimal(0))) if usages else None,
                      method=allocation.method_to_dict(method))
    lines = {}
    for u in units:
        lines[u.unit_id] = LineBasis(
            area_centi=u.area_centi, floor=u.floor,
            usage=None if u.usage is None else _decimal(Decimal(u.usage)),
            share=text(shares[u.unit_id]), exact_fen=text(total_fen * shares[u.unit_id]),
            parts=[PartShare(method=NAMES[type(part)], weight=text(weight),
                             share=None if found is None else text(found[u.unit_id]),
                             band_weight=_band(part, u.floor))
                   for part, weight, found in parts])
    return basis, lines


def _band(part: allocation.Method, floor: int) -> str | None:
    if not isinstance(part, allocation.ByFloorBand):
        return None
    return text(part.weight_of(floor))


def _decimal(value: Decimal) -> str:
    """A reading as written, without trailing zeros ("12.50" → "12.5"); exact."""
    written = format(value, "f")
    return written.rstrip("0").rstrip(".") if "." in written else written
