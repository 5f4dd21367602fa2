"""zh-CN labels for the codes events carry, and readable times (China Standard Time)."""

from __future__ import annotations

import datetime as dt
from typing import Final

from services.notify.rules import CST

ISSUE_STATUS: Final = {
    "submitted": "已提交", "accepted": "已受理", "in_progress": "处理中",
    "resolved": "已解决", "rejected": "不予受理", "duplicate": "重复问题",
}
PARTIES: Final = {
    "property": "物业服务企业", "owners_committee": "业主委员会", "community": "社区居委会",
    "street_office": "街道办事处", "party_branch": "党组织",
}
ESCALATION_REASONS: Final = {
    "cosign_threshold": "附议人数达到门槛", "manual": "工作人员提交议事会", "overdue": "逾期未解决",
}
REMINDERS: Final = {
    "consultation_opened": "议案开始征求意见", "consultation_ending": "征求意见即将截止",
    "consultation_revised": "议案已修改，重新征求意见", "vote_ending": "表决即将截止，您尚未投票",
    "acceptance_due": "实施项目待验收", "satisfaction_open": "请对实施结果进行满意度评价",
}
STEPS: Final = {
    "draft": "草案", "consultation": "征求意见", "vote": "表决", "rejected": "未通过",
    "implementation": "实施", "acceptance": "验收", "satisfaction": "满意度评价",
    "completed": "完成", "abandoned": "放弃", "cancelled": "已取消",
}
# vote outcomes and the outcomes ProposalWorkflow gives a step it leaves
OUTCOMES: Final = {
    "passed": "通过", "rejected": "未通过", "defects": "存在问题", "cancelled": "已取消",
    "started": "开始", "done": "完成", "revise": "修改后重新征求意见", "closed": "已截止",
    "approved": "验收通过", "abandon": "放弃", "ended_early": "召集人提前结束",
}
MEETING_KINDS: Final = {
    "party_masses_council": "党群议事会", "residents_council": "居民议事会",
    "owners_general_meeting": "业主大会", "hearing": "听证会",
}
VOTE_RULES: Final = {
    # the whole rule of Civil Code art. 278: who must take part, then who must agree
    "civil_code_major": "重大事项：专有部分面积占比三分之二以上且人数占比三分之二以上的业主参与表决，"
                        "并经参与表决专有部分面积四分之三以上且参与表决人数四分之三以上的业主同意",
    "civil_code_ordinary": "一般事项：专有部分面积占比三分之二以上且人数占比三分之二以上的业主参与表决，"
                           "并经参与表决专有部分面积过半数且参与表决人数过半数的业主同意",
    "simple_majority": "简单多数", "consensus": "协商一致",
    "committee_election": "业主委员会选举（每位候选人双三分之二参与、双过半赞成）",
}
# roles of "1+3+N" that are organisations on the directory's roster
ORGANISATION_ROLES: Final = frozenset({
    "party_branch", "community", "owners_committee", "property", "street_office",
    "partner_unit", "stationed_unit", "volunteer_team", "resident_reps",
})


def label(table: dict[str, str], code: str | None) -> str:
    """The label of a code, or the code itself when it is new to this table."""
    return table.get(code or "", code or "")


def when(value: dt.datetime | str | None) -> str:
    """'2026-11-30T10:00:00Z' → '2026年11月30日 18:00' (Beijing time); unparseable stays as is."""
    if value is None or value == "":
        return "未定"
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        value = parsed
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone(CST)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def yuan(fen: int) -> str:
    """Integer fen as yuan with two decimals."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"
