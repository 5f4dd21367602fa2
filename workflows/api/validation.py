"""Checking what apps send before it reaches Temporal: inputs, signal and update bodies.

Workflow payloads are dataclasses (each workflow's types.py); msgspec converts JSON into them and
these checks add what a type cannot say (unknown fields, ISO instants, sane windows), so a bad
request is a 422 problem instead of a workflow that fails on its first task.
"""

from __future__ import annotations

import dataclasses
import typing
import uuid
from datetime import datetime
from fractions import Fraction
from typing import Any, TypeVar

import msgspec

from linli.auth import STAFF_ROLES
from linli.directory import Directory
from linli.problems import Problem
from workflows.committee import types as ct
from workflows.follow_up import types as ft
from workflows.proposal import types as t

T = TypeVar("T")


def invalid(detail: str, field: str | None = None) -> Problem:
    return Problem(422, "validation-error", "请求内容不合规", detail,
                   errors=[{"field": field, "detail": detail}])


def _unknown_fields(raw: Any, kind: Any, path: str = "") -> None:
    """msgspec ignores unknown keys of a dataclass; an app's typo must not pass silently."""
    if not (isinstance(raw, dict) and dataclasses.is_dataclass(kind)):
        return
    hints = typing.get_type_hints(kind)
    for key, value in raw.items():
        if key not in hints:
            raise invalid(f"未知字段 {path}{key}", f"{path}{key}")
        nested = next((a for a in (hints[key], *typing.get_args(hints[key]))
                       if dataclasses.is_dataclass(a)), None)
        items = value if isinstance(value, list) else [value]
        for item in items:
            _unknown_fields(item, nested, f"{path}{key}.")


def convert(raw: Any, kind: type[T], what: str = "请求体") -> T:
    """JSON builtins into a workflow dataclass, or a 422 problem naming the field."""
    if not isinstance(raw, dict):
        raise invalid(f"{what}必须是 JSON 对象")
    _unknown_fields(raw, kind)
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        raise invalid(f"{what}字段校验失败: {exc}") from None


def instant(value: str | None, field: str) -> datetime | None:
    """An ISO-8601 instant with a UTC offset (the workflow would guess otherwise)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"{field} 不是 ISO-8601 时间: {value!r}", field) from None
    if parsed.tzinfo is None:
        raise invalid(f"{field} 需要带时区, 例如 2027-03-01T00:00:00+08:00", field)
    return parsed


def entity_id(value: str, field: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise invalid(f"{field} 必须是 UUID", field) from None


# a window longer than this is a typo (and 1e12 s is more than a timer can hold: the run would
# fail on its first step instead of the request failing now)
MAX_WINDOW_SECONDS = 10 * 365 * 86400

# the organisations that may convene a process (the platform admin is not one)
CONVENER_ORGS = sorted(STAFF_ROLES - {"admin"})


def proposal_input(raw: Any) -> t.ProposalInput:
    data = convert(raw, t.ProposalInput, "input ")
    data.compound_id = entity_id(data.compound_id, "compound_id")
    data.proposal_id = entity_id(data.proposal_id, "proposal_id")
    if not data.convener.strip():
        raise invalid("convener 不能为空", "convener")
    if data.convener_org not in CONVENER_ORGS:
        raise invalid(f"convener_org 必须是 {', '.join(CONVENER_ORGS)} 之一", "convener_org")
    for name in ("consultation_seconds", "vote_seconds", "decision_seconds", "acceptance_seconds",
                 "satisfaction_seconds", "defect_fix_seconds"):
        if not 0 < getattr(data, name) <= MAX_WINDOW_SECONDS:
            raise invalid(f"{name} 必须大于 0 且不超过十年 ({MAX_WINDOW_SECONDS} 秒)", name)
    if not 0 <= data.vote_grace_seconds <= MAX_WINDOW_SECONDS:
        raise invalid("vote_grace_seconds 不能为负, 也不能超过十年", "vote_grace_seconds")
    for name, window in (("consultation_reminders", data.consultation_seconds),
                         ("vote_reminders", data.vote_seconds)):
        if name not in raw:  # a default reminder outside a short window is left out, not refused
            setattr(data, name, [offset for offset in getattr(data, name) if 0 < offset < window])
        if any(not 0 < offset < window for offset in getattr(data, name)):
            raise invalid(f"{name} 的每一项必须在 0 与窗口长度之间 (截止前多少秒提醒)", name)
    if not 1 <= data.max_rounds <= 10:
        raise invalid("max_rounds 必须在 1 到 10 之间", "max_rounds")
    names = [m.name for m in data.milestones]
    if len(set(names)) != len(names) or any(not n.strip() for n in names):
        raise invalid("实施节点名称不能为空且不能重复", "milestones")
    for i, m in enumerate(data.milestones):
        instant(m.due_at, f"milestones[{i}].due_at")
    return data


def follow_up_input(raw: Any) -> ft.IssueFollowUpInput:
    data = convert(raw, ft.IssueFollowUpInput, "input ")
    data.compound_id = entity_id(data.compound_id, "compound_id")
    data.issue_id = entity_id(data.issue_id, "issue_id")
    instant(data.respond_by, "respond_by")
    instant(data.resolve_by, "resolve_by")
    if not 0 < data.satisfaction_seconds <= MAX_WINDOW_SECONDS:
        raise invalid("satisfaction_seconds 必须大于 0 且不超过十年", "satisfaction_seconds")
    return data


async def group_members(directory: Directory, compound_id: str,
                        group: ct.PreparatoryGroup) -> None:
    """Every member of the committee's preparatory group belongs to the compound (an owner, a
    resident or serving today in one of its 1+3+N organisations, as the directory's members
    lookup says), checked before the update reaches the workflow: the group is published (公示)
    by name on the compound's notice board, so a person of another compound is refused by name
    (422) and nothing is sent; the directory's outage is a 503 (linli/directory.py)."""
    for i, member in enumerate(group.members):
        member.person_id = entity_id(member.person_id, f"members[{i}].person_id")
    outside = set(await directory.outsiders(compound_id, [m.person_id for m in group.members]))
    if outside:
        named = "、".join(f"{m.name} ({m.person_id})" for m in group.members
                         if m.person_id in outside)
        raise invalid("筹备组成员须是本小区的业主、住户或现任 1+3+N 组织成员;"
                      f" 以下人员不属于本小区: {named}", "members")


def committee_input(raw: Any) -> ct.CommitteeInput:
    """A committee's founding (or re-election): the law's bounds on its windows and term."""
    data = convert(raw, ct.CommitteeInput, "input ")
    data.compound_id = entity_id(data.compound_id, "compound_id")
    if data.requested_by not in ("owners", "developer", "property"):
        raise invalid("requested_by 必须是 owners、developer 或 property", "requested_by")
    try:
        share = Fraction(data.qualifying_share)
    except (ValueError, ZeroDivisionError):
        share = Fraction(-1)
    if not 0 < share <= 1 or "/" not in data.qualifying_share:
        raise invalid("qualifying_share 必须是 0 到 1 之间的分数, 如 1/2", "qualifying_share")
    if not 1 <= data.term_years <= 5:
        raise invalid("业主委员会任期为 1 到 5 年", "term_years")
    if data.notice_days < 15:
        raise invalid("业主大会须至少提前 15 天通知全体业主", "notice_days")
    if not data.publicity_days > 0:
        raise invalid("publicity_days 必须大于 0", "publicity_days")
    for name in ("registration_days", "reminder_days", "term"):
        if getattr(data, name) < 1:
            raise invalid(f"{name} 必须大于 0", name)
    if data.reminder_days >= data.term_years * 365:
        raise invalid("换届提醒须在任期之内", "reminder_days")
    return data
