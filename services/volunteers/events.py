"""Events the volunteers service publishes: the contract other services import.

subject = the entity id (volunteer, menu item, order, care plan or visit); compound_id is set
on every event. Every order transition has its own event type.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from linli.events import event_type


class VolunteerRegistered(msgspec.Struct):
    volunteer_id: uuid.UUID
    compound_id: uuid.UUID
    person_id: str
    skills: list[str]
    party_member: bool
    registered_by: str


class VolunteerVerified(msgspec.Struct):
    volunteer_id: uuid.UUID
    compound_id: uuid.UUID
    person_id: str
    verified_by: str


class VolunteerChanged(msgspec.Struct):
    volunteer_id: uuid.UUID
    compound_id: uuid.UUID
    person_id: str
    skills: list[str]
    status: str
    by: str
    reason: str | None = None


class MenuItemChanged(msgspec.Struct):
    item_id: uuid.UUID
    compound_id: uuid.UUID
    title: str
    skill: str
    volunteer_id: uuid.UUID | None
    by: str


class OrderEvent(msgspec.Struct):
    """Every order transition: who ordered, who serves, what changed and why."""

    order_id: uuid.UUID
    compound_id: uuid.UUID
    item_id: uuid.UUID
    skill: str
    resident_id: str
    from_status: str | None
    to_status: str
    by: str
    volunteer_id: uuid.UUID | None = None
    volunteer_person_id: str | None = None
    window_start: datetime | None = None
    minutes: int | None = None
    rating: int | None = None
    reason: str | None = None


class CarePlanChanged(msgspec.Struct):
    plan_id: uuid.UUID
    compound_id: uuid.UUID
    person_id: str
    volunteer_id: uuid.UUID
    interval_days: int
    by: str


class CareVisitEvent(msgspec.Struct):
    visit_id: uuid.UUID
    plan_id: uuid.UUID
    compound_id: uuid.UUID
    seq: int
    person_id: str
    volunteer_id: uuid.UUID
    due_at: datetime
    minutes: int | None = None


VOLUNTEER_REGISTERED = event_type("linli.volunteers.volunteer.registered", VolunteerRegistered,
                                  "有人登记成为志愿者（待社区或党组织审核）")
VOLUNTEER_VERIFIED = event_type("linli.volunteers.volunteer.verified", VolunteerVerified,
                                "志愿者通过审核，可以发布服务和接单")
VOLUNTEER_UPDATED = event_type("linli.volunteers.volunteer.updated", VolunteerChanged,
                               "志愿者的技能、服务时间、所属服务队或党员身份有变")
VOLUNTEER_SUSPENDED = event_type("linli.volunteers.volunteer.suspended", VolunteerChanged,
                                 "志愿者被暂停服务（附原因），不能再接单；重新审核可恢复")
MENU_PUBLISHED = event_type("linli.volunteers.menu.published", MenuItemChanged,
                            "服务菜单上架了一项服务")
MENU_WITHDRAWN = event_type("linli.volunteers.menu.withdrawn", MenuItemChanged,
                            "服务菜单下架了一项服务")
ORDER_PLACED = event_type("linli.volunteers.order.placed", OrderEvent,
                          "居民按需点单（或工作人员代居民点单）")
ORDER_ASSIGNED = event_type("linli.volunteers.order.assigned", OrderEvent,
                            "订单有了服务志愿者（志愿者接单或社区派单）")
ORDER_DECLINED = event_type("linli.volunteers.order.declined", OrderEvent,
                            "志愿者退单，订单回到待接单")
ORDER_STARTED = event_type("linli.volunteers.order.started", OrderEvent, "志愿者开始上门服务")
ORDER_COMPLETED = event_type("linli.volunteers.order.completed", OrderEvent,
                             "服务完成，时长记入服务台账")
ORDER_RATED = event_type("linli.volunteers.order.rated", OrderEvent, "点单居民评价了服务")
ORDER_CANCELLED = event_type("linli.volunteers.order.cancelled", OrderEvent,
                             "订单在服务开始前被取消（附原因；过了服务时段仍无人接单的自动取消）")
CARE_PLAN_CREATED = event_type("linli.volunteers.care_plan.created", CarePlanChanged,
                               "建立定期关爱计划（如每周探访独居老人）")
CARE_PLAN_ENDED = event_type("linli.volunteers.care_plan.ended", CarePlanChanged,
                             "定期关爱计划结束")
CARE_VISIT_RECORDED = event_type("linli.volunteers.care_visit.recorded", CareVisitEvent,
                                 "志愿者记录了一次关爱探访")
CARE_VISIT_MISSED = event_type("linli.volunteers.care_visit.missed", CareVisitEvent,
                               "关爱探访到期未记录，已提醒社区跟进")

ORDER_EVENTS = {
    "placed": ORDER_PLACED, "accept": ORDER_ASSIGNED, "assign": ORDER_ASSIGNED,
    "decline": ORDER_DECLINED, "start": ORDER_STARTED, "complete": ORDER_COMPLETED,
    "rate": ORDER_RATED, "cancel": ORDER_CANCELLED,
}
