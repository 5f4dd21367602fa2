"""Request and response types of cost sharing (谁受益谁承担); amounts in integer fen."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import msgspec

from linli.formats import exact
from linli.pagination import PageQuery

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"\S")]
Period = Annotated[str, msgspec.Meta(pattern=exact(r"[0-9]{4}-(0[1-9]|1[0-2])"), examples=["2026-07"])]
# metered usage, exact: "123.45" (kWh, m³ …), never a float
Usage = Annotated[str, msgspec.Meta(pattern=exact(r"[0-9]{1,12}(\.[0-9]{1,6})?"), examples=["12.5"])]
Fen = Annotated[int, msgspec.Meta(ge=0, le=10**13, description="金额, 单位: 分 (不能为负)")]


class FloorsIn(msgspec.Struct, forbid_unknown_fields=True):
    building_id: uuid.UUID
    floors: Annotated[list[int], msgspec.Meta(min_length=1, max_length=200)]


class BeneficiariesIn(msgspec.Struct, forbid_unknown_fields=True):
    """Who benefits: units, floors of a building, or whole buildings (any mix)."""

    unit_ids: list[uuid.UUID] = []
    floors: list[FloorsIn] = []
    building_ids: list[uuid.UUID] = []


class CostIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    beneficiaries: BeneficiariesIn
    description: Annotated[str, msgspec.Meta(max_length=2_000)] = ""
    usage_unit: Annotated[str, msgspec.Meta(max_length=20)] = ""


class CostUnit(msgspec.Struct):
    unit_id: uuid.UUID
    building_id: uuid.UUID
    building_name: str
    number: str
    floor: int
    area_centi: int


class SharedCost(msgspec.Struct):
    id: uuid.UUID
    compound_id: uuid.UUID
    name: str
    description: str
    usage_unit: str
    created_at: dt.datetime
    units: list[CostUnit]


class ReadingIn(msgspec.Struct, forbid_unknown_fields=True):
    unit_id: uuid.UUID
    usage: Usage


class ReadingsIn(msgspec.Struct, forbid_unknown_fields=True):
    period: Period
    readings: Annotated[list[ReadingIn], msgspec.Meta(min_length=1, max_length=10_000)]


class Reading(msgspec.Struct):
    unit_id: uuid.UUID
    period: str
    usage: str


class ReadingsQuery(PageQuery, kw_only=True):
    period: Period


class ReadingsImported(msgspec.Struct):
    cost_id: uuid.UUID
    readings: int
    periods: list[str]


class PlanIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    # {"method": "equal" | "area" | "usage" | "floor_band" | "weighted", ...}; see allocation.py
    method: dict[str, Any]


class Plan(msgspec.Struct):
    id: uuid.UUID
    cost_id: uuid.UUID
    name: str
    method: dict[str, Any]
    status: str
    created_at: dt.datetime
    adopted_at: dt.datetime | None = None


class CompareQuery(msgspec.Struct, kw_only=True):
    total_fen: Fen
    period: Period | None = None
    baseline: str | None = None


class CompareRow(msgspec.Struct):
    unit_id: uuid.UUID
    label: str
    amounts: dict[str, int]
    diff: dict[str, int]  # amount minus the amount under the baseline plan


class Comparison(msgspec.Struct):
    cost_id: uuid.UUID
    total_fen: int
    period: str | None
    baseline: str
    plans: dict[str, dict[str, Any]]
    totals: dict[str, int]
    rows: list[CompareRow]


class BillIn(msgspec.Struct, forbid_unknown_fields=True):
    period: Period
    total_fen: Annotated[int, msgspec.Meta(le=10**13)]  # negative ones are refused with a reason


class PartShare(msgspec.Struct):
    """One part of the plan (the whole plan when it is not a mix) and this unit's exact share
    under it ("p/q"); null for a part weighted 0, which took no part in the split."""

    method: str  # equal | area | usage | floor_band | weighted
    weight: str  # "1/2"
    share: str | None
    band_weight: str | None = None  # floor_band: the weight of the unit's floor band


class LineBasis(msgspec.Struct):
    """What the line was computed from: share = Σ weight × part share; exact_fen = total ×
    share; amount_fen is exact_fen rounded by largest remainder (all lines sum to the total)."""

    area_centi: int
    floor: int
    usage: str | None  # the period's reading the bill used (null: no reading, counts 0)
    share: str
    exact_fen: str
    parts: list[PartShare]


class BillBasis(msgspec.Struct):
    units: int          # beneficiary units that share the bill
    area_centi: int     # their registered area together
    usage: str | None   # their readings together (null when none was read)
    method: dict[str, Any]  # the adopted plan's method the bill was split by


class BillLine(msgspec.Struct):
    unit_id: uuid.UUID
    label: str
    amount_fen: int
    basis: LineBasis | None = None


class Bill(msgspec.Struct):
    id: uuid.UUID
    cost_id: uuid.UUID
    plan_id: uuid.UUID
    period: str
    total_fen: int
    issued_at: dt.datetime
    lines: list[BillLine]
    plan_name: str = ""
    basis: BillBasis | None = None


class PaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    """A unit's share of a period's bill recorded paid (by who keeps the costs)."""

    unit_id: uuid.UUID
    paid_on: dt.date


class Payment(msgspec.Struct):
    bill_id: uuid.UUID
    unit_id: uuid.UUID
    amount_fen: int
    paid_on: dt.date
    recorded_by: str


UNIT_IDS_MAX = 150


class UnpaidQuery(PageQuery, kw_only=True):
    # comma-separated unit ids (up to 150, so the URL stays within what HTTP servers accept);
    # all the compound's units when absent
    unit_ids: Annotated[str, msgspec.Meta(max_length=UNIT_IDS_MAX * 37,
                                          pattern=r"^[0-9A-Fa-f,-]*$")] | None = None


class UnpaidLine(msgspec.Struct):
    cost_id: uuid.UUID
    cost_name: str
    bill_id: uuid.UUID
    period: str
    unit_id: uuid.UUID
    amount_fen: int
