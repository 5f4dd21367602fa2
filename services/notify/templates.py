"""Notification kinds, their built-in zh-CN templates and {placeholder} rendering.

A compound may override a kind's title and body; a template may use only the placeholders its
kind provides, checked when it is saved (422), so rendering at send time cannot fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Kind:
    """One kind of notification: its label, placeholders and default texts."""

    label: str
    placeholders: frozenset[str]
    title: str
    body: str


def _kind(label: str, names: str, title: str, body: str) -> Kind:
    return Kind(label, frozenset(names.split()), title, body)


KINDS: Final[dict[str, Kind]] = {
    "issue_status_changed": _kind(
        "问题状态变化", "title from_status to_status note",
        "您反映的问题“{title}”{to_status}", "问题状态由“{from_status}”变为“{to_status}”。{note}"),
    "issue_resolved": _kind(
        "问题已解决", "title note",
        "您反映的问题“{title}”已解决", "处理说明：{note}。如未解决，请在小程序中评价或申请重新打开。"),
    "issue_escalated": _kind(
        "问题提交议事会", "title reason cosign_count",
        "问题“{title}”已提交议事会", "提交原因：{reason}；目前共有 {cosign_count} 位居民附议。"),
    "issue_with_council": _kind(
        "问题交议事会", "title proposal",
        "您反映的问题“{title}”已交议事会",
        "问题已纳入议案“{proposal}”，由议事会推进；议事期间处理时限暂停。议案完成后问题随之解决。"),
    "issue_returned": _kind(
        "问题退回责任方", "title proposal outcome responsible deadline",
        "问题“{title}”退回{responsible}",
        "议案“{proposal}”{outcome}，问题退回{responsible}继续处理，解决期限：{deadline}。"),
    "issue_overdue": _kind(
        "问题逾期", "title status responsible deadline",
        "问题“{title}”已逾期", "当前状态“{status}”，责任方：{responsible}，期限：{deadline}。请尽快处理。"),
    "issue_commented": _kind(
        "问题新留言", "title who",
        "问题“{title}”有新回复", "{who}在您反映的问题下留言，请查看。"),
    "issue_follow_up": _kind(
        "问题回访", "deadline title",
        "请评价问题“{title}”的处理结果",
        "您反映的问题“{title}”已处理完毕，请在 {deadline} 前评价是否满意。"),
    "proposal_reminder": _kind(
        "议题提醒", "reminder deadline proposal",
        "议案“{proposal}”：{reminder}", "议案“{proposal}”：{reminder}，截止时间：{deadline}。"),
    "proposal_step_changed": _kind(
        "议题进入新阶段", "step previous outcome round note proposal",
        "议案“{proposal}”进入“{step}”阶段",
        "议案“{proposal}”上一阶段“{previous}”结果：{outcome}（第 {round} 轮）。{note}"),
    "proposal_blocked": _kind(
        "议题流程受阻", "proposal reason step",
        "议案“{proposal}”的流程受阻，等待处理",
        "流程在“{step}”阶段暂停：{reason}。请在工作台的议案页排除原因后重试，或放弃议案、取消流程。"),
    "committee_step_changed": _kind(
        "业委会成立进展", "step previous note",
        "业主委员会成立：进入“{step}”阶段", "上一阶段：{previous}。{note}"),
    "committee_reminder": _kind(
        "业委会提醒", "reminder deadline",
        "业主委员会提醒：{reminder}", "{reminder}，期限：{deadline}。"),
    "proposal_milestone_overdue": _kind(
        "实施节点逾期", "milestone due_at owner percent proposal",
        "议案“{proposal}”的实施节点“{milestone}”逾期",
        "应于 {due_at} 完成，负责方：{owner}，目前完成 {percent}%。"),
    "meeting_convened": _kind(
        "会议召集", "title kind starts_at place invitees",
        "会议通知：{title}",
        "{kind}“{title}”将于 {starts_at} 在{place}召开，受邀：{invitees}。请准时参加。"),
    "vote_opened": _kind(
        "表决开始", "rule closes_at roll_entries proposal",
        "议案“{proposal}”开始业主表决",
        "表决规则：{rule}；共 {roll_entries} 个表决单位；截止时间：{closes_at}。"),
    "vote_closed": _kind(
        "表决结束", "rule outcome proposal",
        "议案“{proposal}”表决结果：{outcome}", "表决规则：{rule}；结果：{outcome}。"),
    "minutes_published": _kind(
        "会议纪要公示", "title notice_until",
        "会议纪要公示：{title}", "会议纪要已公示，公示期至 {notice_until}，如有异议请向议事会反映。"),
    "bills_issued": _kind(
        "费用分摊账单", "period total units name",
        "{name} {period} 分摊账单已出具",
        "{name}（{period}）合计 {total} 元，分摊到 {units} 户，请查看本户账单。"),
    "sign_in_code": _kind(
        "登录验证码", "code minutes",
        "登录验证码 {code}", "您的邻里登录验证码是 {code}，{minutes} 分钟内有效。请勿告诉他人。"),
    "announcement": _kind(
        "社区公告", "title body", "社区公告：{title}", "{body}"),
    # what another app sends through POST /v1/compounds/{cid}/messages in its own words
    "app_message": _kind(
        "应用消息", "title body", "消息：{title}", "{body}"),
    "consultation_opened": _kind(
        "征求意见", "version closes_at proposal",
        "议案“{proposal}”征求意见（第 {version} 版）",
        "欢迎对议案“{proposal}”发表意见，征求意见截止：{closes_at}。"),
    "centre_booking": _kind(
        "场地预约", "venue starts_at status reason",
        "场地预约{status}：{venue}", "您预约的{venue}（{starts_at} 起）{status}。{reason}"),
    "centre_plan_published": _kind(
        "活动计划发布", "title period audience activities",
        "{title}", "邻里中心发布了{audience}的 {period} 活动计划，共 {activities} 项活动，欢迎报名。"),
    "centre_waitlist_promoted": _kind(
        "候补转正", "title starts_at confirm",
        "候补成功：{title}", "有人取消了报名，您已从候补转为报名成功。活动时间：{starts_at}。{confirm}"),
    "centre_activity_cancelled": _kind(
        "活动取消", "title starts_at reason",
        "活动取消：{title}", "原定 {starts_at} 的活动取消了，原因：{reason}。"),
    "centre_activity_reminder": _kind(
        "活动提醒", "title starts_at",
        "明天的活动：{title}", "您报名的活动将于 {starts_at} 开始，请带好签到码准时参加。"),
    "centre_feedback_requested": _kind(
        "活动评分", "title",
        "请为“{title}”评分", "感谢参加！请在小程序中为这次活动打分（1–5 分），帮助我们办得更好。"),
    "centre_hold_ready": _kind(
        "预约图书可借", "title",
        "您预约的《{title}》可以借了", "书已归还并为您保留，请到邻里中心图书角借阅。"),
    "centre_loan_due": _kind(
        "借书快到期", "title due_on",
        "《{title}》快到期了", "应还日期为 {due_on}，请按时归还；没有人预约的话可以续借一次。"),
    "centre_loan_overdue": _kind(
        "借书逾期", "title due_on",
        "《{title}》已逾期", "应还日期为 {due_on}，请尽快归还到邻里中心图书角。"),
}


class TemplateError(ValueError):
    """A template uses a placeholder its kind does not provide."""


def check(kind: str, text: str) -> None:
    """Raise TemplateError naming the unknown placeholders of `text`."""
    unknown = sorted(set(_PLACEHOLDER.findall(text)) - KINDS[kind].placeholders)
    if unknown:
        allowed = "、".join(sorted(KINDS[kind].placeholders))
        raise TemplateError(f"未知的占位符 {', '.join('{' + u + '}' for u in unknown)}；"
                            f"“{KINDS[kind].label}”可用：{allowed}")


def render(text: str, values: dict[str, str]) -> str:
    """Fill {placeholders}; one the values lack is left as written (never raises)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
