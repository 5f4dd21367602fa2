"""Events the directory publishes: the contract other services import."""

from __future__ import annotations

import uuid

import msgspec

from linli.events import event_type


class CompoundCreated(msgspec.Struct):
    compound_id: uuid.UUID
    name: str
    community: str
    street: str


class CompoundUpdated(msgspec.Struct):
    compound_id: uuid.UUID
    name: str


class BuildingCreated(msgspec.Struct):
    building_id: uuid.UUID
    compound_id: uuid.UUID
    name: str


class UnitChanged(msgspec.Struct):
    unit_id: uuid.UUID
    compound_id: uuid.UUID
    building_id: uuid.UUID
    number: str
    area_centi: int
    status: str


class UnitOwnersChanged(msgspec.Struct):
    unit_id: uuid.UUID
    compound_id: uuid.UUID
    owner_ids: list[uuid.UUID]


class PersonCreated(msgspec.Struct):
    person_id: uuid.UUID
    name: str


class HouseholdChanged(msgspec.Struct):
    household_id: uuid.UUID
    compound_id: uuid.UUID
    unit_id: uuid.UUID
    resident_ids: list[uuid.UUID]


class OrganisationCreated(msgspec.Struct):
    organisation_id: uuid.UUID
    compound_id: uuid.UUID
    kind: str
    name: str


class RoleChanged(msgspec.Struct):
    role_id: uuid.UUID
    organisation_id: uuid.UUID
    compound_id: uuid.UUID
    person_id: uuid.UUID
    title: str
    kind: str
    ends_on: str | None = None


class UnitsImported(msgspec.Struct):
    compound_id: uuid.UUID
    units_created: int
    ownerships_created: int


COMPOUND_CREATED = event_type("linli.directory.compound.created", CompoundCreated, "登记了新小区")
COMPOUND_UPDATED = event_type("linli.directory.compound.updated", CompoundUpdated, "小区信息已修改")
BUILDING_CREATED = event_type("linli.directory.building.created", BuildingCreated, "登记了新楼栋")
UNIT_CREATED = event_type("linli.directory.unit.created", UnitChanged, "登记了新的专有部分")
UNIT_UPDATED = event_type("linli.directory.unit.updated", UnitChanged, "专有部分的面积或交付状态已修改")
UNIT_OWNERS_CHANGED = event_type(
    "linli.directory.unit.owners_changed", UnitOwnersChanged, "专有部分的业主已变更"
)
PERSON_CREATED = event_type("linli.directory.person.created", PersonCreated, "登记了新人员")
HOUSEHOLD_CHANGED = event_type(
    "linli.directory.household.changed", HouseholdChanged, "住户或其成员已变更"
)
ORGANISATION_CREATED = event_type(
    "linli.directory.organisation.created", OrganisationCreated, "登记了 1+3+N 组织"
)
ROLE_ASSIGNED = event_type("linli.directory.role.assigned", RoleChanged, "人员在组织中担任职务")
ROLE_ENDED = event_type("linli.directory.role.ended", RoleChanged, "人员的组织职务已结束")
UNITS_IMPORTED = event_type(
    "linli.directory.units.imported", UnitsImported, "CSV 批量导入了专有部分和业主"
)
