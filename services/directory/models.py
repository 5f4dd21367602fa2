"""Request, response and row types of the directory (msgspec Structs)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from linli.formats import exact, fullmatch
from linli.pagination import PageQuery

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"\S")]
Text = Annotated[str, msgspec.Meta(max_length=300)]
# m² with at most two decimals, as a string so that it is exact ("89.50")
# more than zero (the database refuses 0): a non-zero digit somewhere
AREA = r"(?=[0-9.]*[1-9])[0-9]{1,7}(\.[0-9]{1,2})?"
Area = Annotated[str, msgspec.Meta(pattern=exact(AREA), examples=["89.50"])]
_AREA = fullmatch(AREA)
Phone = Annotated[str, msgspec.Meta(pattern=exact(r"\+?[0-9][0-9-]{4,19}"),
                                    examples=["13800138000"])]
Floor = Annotated[int, msgspec.Meta(ge=-5, le=200)]
UnitStatus = Literal["unsold", "sold", "delivered"]
OrganisationKind = Literal[
    "party_branch", "community", "owners_committee", "property", "street_office",
    "partner_unit", "stationed_unit", "volunteer_team", "resident_reps",
]
ORGANISATION_LABELS: dict[str, str] = {
    "party_branch": "党组织", "community": "社区居委会", "owners_committee": "业主委员会",
    "property": "物业服务企业", "street_office": "街道办事处", "partner_unit": "共建单位",
    "stationed_unit": "驻区单位", "volunteer_team": "志愿服务队", "resident_reps": "居民代表",
}


def area_to_centi(area: str) -> int:
    """'89.5' → 8950 hundredths of m²; anything but ASCII digits to the end is a ValueError."""
    if not _AREA.fullmatch(area):
        raise ValueError(f"面积 {area!r} 必须是大于 0 的数, 最多两位小数")
    whole, _, frac = area.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def centi_to_area(centi: int) -> str:
    """8950 → '89.50'."""
    return f"{centi // 100}.{centi % 100:02d}"


class CompoundIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    community: Name
    street: Name
    district: Text = ""
    address: Text = ""


class CompoundPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    community: Name | None = None
    street: Name | None = None
    district: Text | None = None
    address: Text | None = None


class Compound(msgspec.Struct):
    id: uuid.UUID
    name: str
    community: str
    street: str
    district: str
    address: str
    created_at: dt.datetime


class BuildingIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    floors: Annotated[int, msgspec.Meta(ge=1, le=200)]


class Building(msgspec.Struct):
    id: uuid.UUID
    compound_id: uuid.UUID
    name: str
    floors: int


class UnitIn(msgspec.Struct, forbid_unknown_fields=True):
    building_id: uuid.UUID
    floor: Floor
    number: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    area: Area
    status: UnitStatus = "delivered"


class UnitPatch(msgspec.Struct, forbid_unknown_fields=True):
    area: Area | None = None
    status: UnitStatus | None = None


class Unit(msgspec.Struct):
    id: uuid.UUID
    compound_id: uuid.UUID
    building_id: uuid.UUID
    floor: int
    number: str
    area: str
    area_centi: int
    status: str
    owner_ids: list[uuid.UUID]


class UnitQuery(PageQuery, kw_only=True):
    building_id: uuid.UUID | None = None


class PersonIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    phone: Phone | None = None


class Person(msgspec.Struct):
    id: uuid.UUID
    name: str
    phone: str | None


class OwnerIn(msgspec.Struct, forbid_unknown_fields=True):
    person_id: uuid.UUID


class HouseholdIn(msgspec.Struct, forbid_unknown_fields=True):
    unit_id: uuid.UUID
    name: Name


class ResidentIn(msgspec.Struct, forbid_unknown_fields=True):
    person_id: uuid.UUID
    relation: Literal["owner", "family", "tenant", "other"] = "family"


class Resident(msgspec.Struct):
    person_id: uuid.UUID
    relation: str


class Household(msgspec.Struct):
    id: uuid.UUID
    compound_id: uuid.UUID
    unit_id: uuid.UUID
    name: str
    residents: list[Resident]


class OrganisationIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: OrganisationKind
    name: Name


class Organisation(msgspec.Struct):
    id: uuid.UUID
    compound_id: uuid.UUID
    kind: str
    kind_label: str
    name: str


class RoleIn(msgspec.Struct, forbid_unknown_fields=True):
    person_id: uuid.UUID
    title: Name
    starts_on: dt.date
    ends_on: dt.date | None = None


class RoleEnd(msgspec.Struct, forbid_unknown_fields=True):
    ends_on: dt.date


class Role(msgspec.Struct):
    id: uuid.UUID
    organisation_id: uuid.UUID
    person_id: uuid.UUID
    person_name: str
    title: str
    starts_on: dt.date
    ends_on: dt.date | None


class RosterEntry(msgspec.Struct):
    organisation: Organisation
    roles: list[Role]


class RollEntry(msgspec.Struct):
    """One voter of the owners' roll: its area and headcount as the law counts them."""

    entry_id: str
    kind: Literal["owner", "co_owners", "developer", "unregistered"]
    owner_ids: list[uuid.UUID]
    unit_ids: list[uuid.UUID]
    area_centi: int
    headcount: int


class Roll(msgspec.Struct):
    compound_id: uuid.UUID
    total_area_centi: int
    total_area: str
    total_headcount: int
    entries: list[RollEntry]


class ImportResult(msgspec.Struct):
    buildings_created: int
    units_created: int
    people_created: int
    ownerships_created: int
