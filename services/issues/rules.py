"""Pure rules of issues: the status machine, default categories, areas, similarity.

No I/O here, so the rules are unit-tested directly (tests/unit/test_issue_status.py).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any, Final

# Apps (the workflows) that manage issues hold this scope; with it an app counts as staff.
MANAGE_SCOPE: Final = "issues:manage"
# An app holding either may report for a resident it names (Open311 clients).
REPORT_SCOPES: Final = frozenset({"issues:report", MANAGE_SCOPE})
OPEN: Final = frozenset({"submitted", "accepted", "in_progress"})
CLOSED: Final = frozenset({"resolved", "rejected", "duplicate"})
STATUSES: Final = OPEN | CLOSED
STATUS_LABELS: Final = {
    "submitted": "已提交", "accepted": "已受理", "in_progress": "处理中",
    "resolved": "已解决", "rejected": "不予受理", "duplicate": "重复问题",
}
# The typed flow: what each status may become through a staff transition. Reopening a
# resolved issue is a separate action (reporter within the window, or an unsatisfied "no").
TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "submitted": frozenset({"accepted", "rejected", "duplicate"}),
    "accepted": frozenset({"in_progress", "resolved", "rejected", "duplicate"}),
    "in_progress": frozenset({"resolved", "duplicate"}),
    "resolved": frozenset(),
    "rejected": frozenset(),
    "duplicate": frozenset(),
}
REOPEN_TO: Final = "in_progress"

# The parties of "1+3+N" an issue can be routed to; each is also the role that works it.
PARTIES: Final = {
    "property": "物业服务企业", "owners_committee": "业主委员会", "community": "社区居委会",
    "street_office": "街道办事处", "party_branch": "党组织",
}
COMMON_AREAS: Final = {
    "roof": "屋顶", "lift": "电梯", "pump_room": "水泵房", "green_space": "绿地",
    "parking": "停车场", "corridor": "楼道", "gate": "小区大门", "road": "小区道路",
    "facilities": "公共设施", "other": "其他公共区域",
}
RESPONSE_TEMPLATES: Final = {
    "received": "您好，您反映的问题已收到，我们会尽快安排处理。",
    "scheduled": "已安排工作人员上门查看，请保持电话畅通。",
    "parts_ordered": "所需配件已订购，到货后立即维修。",
    "fixed": "问题已处理完毕，请您确认是否解决。",
    "not_ours": "该问题不属于本单位职责范围，已转交相关责任方。",
}


def _yes_no(code: str, question: str) -> dict[str, Any]:
    return {"code": code, "description": question, "datatype": "singlevaluelist",
            "required": True, "values": [{"key": "yes", "name": "是"}, {"key": "no", "name": "否"}]}


# (code, name, responsible party, hours to first response, hours to resolution, attributes)
DEFAULT_CATEGORIES: Final[list[tuple[str, str, str, int, int, list[dict[str, Any]]]]] = [
    ("repair", "公共设施报修", "property", 24, 72, []),
    ("lift", "电梯故障", "property", 1, 24, [_yes_no("trapped", "是否有人被困")]),
    ("water_power", "水电气故障", "property", 4, 48, [_yes_no("whole_building", "是否整栋楼受影响")]),
    ("sanitation", "环境卫生", "property", 24, 72, []),
    ("greenery", "绿化养护", "property", 48, 168, []),
    ("parking", "停车秩序", "property", 24, 72, []),
    ("safety", "安全隐患", "property", 4, 48, []),
    ("common_funds", "公共收益与维修资金", "owners_committee", 72, 720, []),
    ("common_parts", "共有部分使用与改造", "owners_committee", 72, 720, []),
    ("neighbour", "邻里纠纷", "community", 24, 168, []),
    ("governance", "小区治理", "community", 72, 720, []),
    ("cross_compound", "跨小区事项", "street_office", 72, 720, []),
]
DEFAULT_CODES: Final = frozenset(c[0] for c in DEFAULT_CATEGORIES)


class IllegalTransition(ValueError):
    """The status flow does not allow this step."""


def check_transition(current: str, target: str) -> None:
    """Raise IllegalTransition unless `current` may become `target`."""
    if target not in STATUSES:
        raise IllegalTransition(f"未知状态 {target}")
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(
            f"问题当前为“{STATUS_LABELS[current]}”，不能变为“{STATUS_LABELS[target]}”"
        )


def check_reopen(status: str, resolved_at: dt.datetime | None, now: dt.datetime,
                 window_hours: int) -> None:
    """Only a resolved issue, and only within the window after its resolution, reopens."""
    if status != "resolved" or resolved_at is None:
        raise IllegalTransition(f"只有已解决的问题可以重新打开（当前为“{STATUS_LABELS[status]}”）")
    if now - resolved_at > dt.timedelta(hours=window_hours):
        raise IllegalTransition(f"已超过解决后 {window_hours} 小时的重新打开期限")


def open311_status(status: str) -> str:
    """GeoReport v2 knows only open and closed."""
    return "open" if status in OPEN else "closed"


def metric_category(code: str) -> str:
    """Bounded metric label: default codes as they are, a compound's own codes as 'custom'."""
    return code if code in DEFAULT_CODES else "custom"


def _grams(text: str) -> set[str]:
    """Character bigrams: they work for Chinese, which has no spaces between words."""
    chars = [c for c in text.lower() if c.isalnum()]
    return {a + b for a, b in itertools.pairwise(chars)} or set(chars)


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of character bigrams, 0..1."""
    ga, gb = _grams(a), _grams(b)
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / len(ga | gb)
