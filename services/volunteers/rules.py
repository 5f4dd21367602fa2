"""Pure rules of volunteers: the order flow, default skills, weeks, care schedules.

No I/O here, so the rules are unit-tested directly (tests/unit/test_volunteer_rules.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Final
from zoneinfo import ZoneInfo

# Weeks (capacity per week) are counted in the compound's local time.
LOCAL: Final = ZoneInfo("Asia/Shanghai")

DEFAULT_SKILLS: Final = {
    "appliance_repair": "家电维修",
    "elder_visit": "探访老人",
    "mediation": "矛盾调解",
    "hardship_help": "困难帮扶",
    "errands": "代购代办",
    "medical_escort": "陪诊",
}

STATUS_LABELS: Final = {
    "ordered": "已下单", "accepted": "已接单", "in_service": "服务中", "completed": "已完成",
    "rated": "已评价", "cancelled": "已取消",
}
# action -> (statuses it may start from, status it leads to)
ACTIONS: Final[dict[str, tuple[frozenset[str], str]]] = {
    "accept": (frozenset({"ordered"}), "accepted"),
    "assign": (frozenset({"ordered"}), "accepted"),
    "decline": (frozenset({"accepted"}), "ordered"),
    "start": (frozenset({"accepted"}), "in_service"),
    "complete": (frozenset({"in_service"}), "completed"),
    "rate": (frozenset({"completed"}), "rated"),
    "cancel": (frozenset({"ordered", "accepted"}), "cancelled"),
}
ACTION_LABELS: Final = {
    "accept": "接单", "assign": "派单", "decline": "退单", "start": "开始服务",
    "complete": "完成服务", "rate": "评价", "cancel": "取消",
}
# Staff who run the volunteer service: verify volunteers, assign orders, see the ledger; apps
# count as staff only with this scope.
STAFF: Final = ("community", "party_branch")
MANAGE_SCOPE: Final = "volunteers:manage"
# The 422 on unit_id when the directory has no such unit in the compound.
UNIT_MISSING: Final = "该小区的这个房屋不存在"


class IllegalTransition(Exception):
    """The action is not allowed from the order's current status."""


def next_status(status: str, action: str) -> str:
    """The status `action` leads to from `status`; IllegalTransition otherwise."""
    sources, target = ACTIONS[action]
    if status not in sources:
        raise IllegalTransition(
            f"订单当前为“{STATUS_LABELS[status]}”，不能{ACTION_LABELS[action]}")
    return target


def metric_skill(skill: str) -> str:
    """Bounded metric label: custom skills of a compound count as 'other'."""
    return skill if skill in DEFAULT_SKILLS else "other"


def week_start(moment: dt.datetime) -> dt.date:
    """Monday of the local week `moment` falls in (capacity is per week)."""
    day = moment.astimezone(LOCAL).date()
    return day - dt.timedelta(days=day.weekday())


def visit_due(first_due_at: dt.datetime, interval_days: int, seq: int) -> dt.datetime:
    """When visit `seq` (1-based) of a care plan is due."""
    if seq < 1:
        raise ValueError("visits are numbered from 1")
    return first_due_at + dt.timedelta(days=interval_days * (seq - 1))


def hours(minutes: int) -> str:
    """Minutes as exact hours with two decimals ('90' → '1.50'), rounded half up."""
    centi = (minutes * 100 + 30) // 60
    return f"{centi // 100}.{centi % 100:02d}"
