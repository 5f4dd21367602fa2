"""The flat route table of issues (the Open311 façade's routes come from open311.py)."""

from __future__ import annotations

from typing import Any

from linli.auth import PUBLIC, allow, people
from linli.http import Route
from linli.pagination import Page, PageQuery
from services.issues import handlers as h
from services.issues import open311 as o
from services.issues import open311_submit as submit
from services.issues import rules
from services.issues.models import (
    Category,
    CategoryIn,
    Comment,
    CommentIn,
    CompoundSettings,
    Cosign,
    EscalateIn,
    Feedback,
    FeedbackIn,
    HistoryEntry,
    Issue,
    IssueIn,
    IssueQuery,
    ReassignIn,
    ReopenIn,
    SettingsIn,
    SimilarIssue,
    SimilarQuery,
    Stats,
    Transition,
)

MANAGE = ["issues:manage"]
# Who configures categories and thresholds: the community, street office, party branch.
CONFIGURERS = allow("community", "street_office", "party_branch", scopes=MANAGE)
# Who works issues; the service then checks the caller is the issue's responsible party
# or the community.
WORKERS = allow("property", "owners_committee", "community", "street_office", "party_branch",
                scopes=MANAGE, note="the issue's responsible party or the community")
# Who takes an issue to the council by hand.
ESCALATORS = allow("party_branch", "owners_committee", scopes=MANAGE)
# What residents do; apps report (and comment) only with issues:report or issues:manage.
REPORTERS = people("the reporter, or staff reporting on a resident's behalf (on_behalf_of)",
                   scopes=sorted(rules.REPORT_SCOPES))
COMMENTERS = people("anyone who may see the issue; a staff comment is an official update",
                    scopes=sorted(rules.REPORT_SCOPES))
COSIGNERS = people("a resident, once per issue")
REOPENERS = people("the reporter, within the reopen window", scopes=MANAGE)
RATERS = people("the reporter and the co-signers")
C = "/v1/compounds/{compound_id}"
I = f"{C}/issues/{{issue_id}}"  # noqa: E741
TAGS = ("issues",)


O_PARAMS = {"code": "服务代码 (问题类别)", "request_id": "服务请求 id", "token": "提交时返回的 token"}
O311 = ("open311",)
# public; errors in the spec's own array format, also those found before a handler runs
OPEN: dict[str, Any] = {"access": PUBLIC, "errors": o.SPEC_ERRORS, "tags": O311}
# Open311 GeoReport v2: public reads; POST authenticates by api_key (a Linli bearer token).
OB = o.BASE
OPEN311_ROUTES = [
    Route("GET", f"{OB}/discovery.json", o.discovery, "Open311 服务发现", **OPEN),
    Route("GET", f"{OB}/services.json", o.services_list,
          "Open311 服务列表 (jurisdiction_id = 小区 id)", query=o.Query, response=list[o.Service],
          **OPEN),
    Route("GET", f"{OB}/services/{{code}}.json", o.service_definition,
          "Open311 服务定义 (类别的附加问题)", query=o.Query, **OPEN, params=O_PARAMS),
    Route("GET", f"{OB}/requests.json", o.list_requests,
          "Open311 查询服务请求 (service_request_id/service_code/start_date/end_date/status,"
          " 扩展 page/page_size；上报人不公开)", query=o.Query, response=list[o.Request],
          **OPEN),
    Route("POST", f"{OB}/requests.json", submit.create_request,
          "Open311 提交服务请求 (application/x-www-form-urlencoded；api_key 为 Linli Bearer 令牌："
          "居民令牌以本人身份上报，带 issues:report 或 issues:manage 范围的应用令牌代 first_name/"
          "last_name 所填居民上报)", form=submit.RequestForm, response=list[o.Created], status=201,
          **OPEN),
    Route("GET", f"{OB}/requests/{{request_id}}.json", o.get_request, "Open311 单个服务请求",
          query=o.Query, response=list[o.Request], **OPEN, params=O_PARAMS),
    Route("GET", f"{OB}/tokens/{{token}}.json", o.get_token, "Open311 由 token 查服务请求 id",
          query=o.Query, response=list[o.TokenAnswer], **OPEN, params=O_PARAMS),
]


ROUTES = [
    Route("GET", f"{C}/issue-categories", h.list_categories,
          "问题类别 (首次使用时按默认责任方和时限生成; 一页全部)", response=Page[Category],
          tags=TAGS),
    Route("POST", f"{C}/issue-categories/defaults", h.seed_categories,
          "补充默认问题类别 (已有类别保持不变)", response=list[Category], access=CONFIGURERS,
          tags=TAGS),
    Route("PUT", f"{C}/issue-categories/{{code}}", h.put_category, "新建或修改问题类别",
          body=CategoryIn, response=Category, access=CONFIGURERS, tags=TAGS),
    Route("GET", f"{C}/issue-settings", h.get_settings, "附议门槛与重新打开期限",
          response=CompoundSettings, tags=TAGS),
    Route("PUT", f"{C}/issue-settings", h.put_settings, "修改附议门槛与重新打开期限",
          body=SettingsIn, response=CompoundSettings, access=CONFIGURERS, tags=TAGS),
    Route("POST", f"{C}/issues", h.report,
          "上报问题 (居民本人；工作人员可通过 on_behalf_of 代居民上报)", body=IssueIn,
          response=Issue, status=201, access=REPORTERS, idempotent=True, tags=TAGS),
    Route("GET", f"{C}/issues", h.list_issues, "问题列表 (匿名上报人对他人隐藏)",
          query=IssueQuery, response=Page[Issue], tags=TAGS),
    Route("GET", f"{C}/issues/similar", h.similar, "上报前查找相似的未关闭问题 (可直接附议)",
          query=SimilarQuery, response=Page[SimilarIssue], tags=TAGS),
    Route("GET", I, h.get_issue, "问题详情", response=Issue, tags=TAGS),
    Route("GET", f"{I}/history", h.history, "问题的流转记录 (按发生顺序分页)", query=PageQuery,
          response=Page[HistoryEntry],
          tags=TAGS),
    Route("POST", f"{I}/cosign", h.cosign, "附议“我也遇到” (每人一次)", response=Cosign,
          status=201, access=COSIGNERS, tags=TAGS),
    Route("POST", f"{I}/comments", h.add_comment, "留言；工作人员的留言为进展说明，可用回复模板",
          body=CommentIn, response=Comment, status=201, access=COMMENTERS, idempotent=True,
          tags=TAGS),
    Route("GET", f"{I}/comments", h.list_comments, "留言与进展 (按时间分页)", query=PageQuery,
          response=Page[Comment],
          tags=TAGS),
    Route("POST", f"{I}/status", h.change_status,
          "变更状态 (受理、处理中、已解决、不予受理须说明理由、重复须指明原问题)",
          body=Transition, response=Issue, access=WORKERS, tags=TAGS),
    Route("POST", f"{I}/reopen", h.reopen,
          "上报人在期限内重新打开已解决的问题 (回访流程凭 issues:manage 也可)",
          body=ReopenIn, response=Issue, access=REOPENERS, idempotent=True, tags=TAGS),
    Route("POST", f"{I}/reassign", h.reassign, "转交给其他责任方 (记录在案)", body=ReassignIn,
          response=Issue, access=WORKERS, tags=TAGS),
    Route("POST", f"{I}/escalate", h.escalate, "提交议事会 (已提交时返回 409)", body=EscalateIn,
          response=Issue, access=ESCALATORS, tags=TAGS),
    Route("POST", f"{I}/feedback", h.feedback, "评价处理结果 (未解决则重新打开)",
          body=FeedbackIn, response=Feedback, status=201, access=RATERS, tags=TAGS),
    Route("GET", f"{C}/issue-stats", h.compound_stats, "小区问题统计", response=Stats, tags=TAGS),
    *OPEN311_ROUTES,
]
