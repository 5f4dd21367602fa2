"""The meetings service's flat route table (proposals, votes, cost sharing, meetings)."""

from __future__ import annotations

from linli.auth import MEMBERS, allow
from linli.http import Route
from linli.pagination import Page
from services.meetings import handlers as h
from services.meetings.models import (
    Consultation,
    ConsultationIn,
    Opinion,
    OpinionIn,
    OpinionQuery,
    OpinionSummary,
    Proposal,
    ProposalIn,
    ProposalQuery,
    ProposalVersion,
    VersionIn,
)

# Who runs the council's business: the party branch, the community, the owners' committee,
# the street office, and apps (workflows) holding meetings:manage.
MANAGE = "meetings:manage"
MANAGERS = allow("party_branch", "community", "owners_committee", "street_office", scopes=[MANAGE])
PROPOSERS = allow("party_branch", "community", "owners_committee", "street_office", "property",
                  "resident_rep", scopes=[MANAGE])
C = "/v1/compounds/{compound_id}"
P = f"{C}/proposals/{{proposal_id}}"
TAGS = ("proposals",)

PROPOSAL_ROUTES = [
    Route("POST", f"{C}/proposals", h.create_proposal, "提出议案 (第 1 版)", body=ProposalIn,
          response=Proposal, status=201, access=PROPOSERS, idempotent=True, tags=TAGS),
    Route("GET", f"{C}/proposals", h.list_proposals, "议案列表", query=ProposalQuery,
          response=Page[Proposal], access=MEMBERS, tags=TAGS),
    Route("GET", P, h.get_proposal, "议案详情 (当前版本)", response=Proposal, tags=TAGS),
    Route("POST", f"{P}/versions", h.revise, "根据意见形成新版本", body=VersionIn,
          response=ProposalVersion, status=201, access=PROPOSERS, idempotent=True, tags=TAGS),
    Route("GET", f"{P}/versions", h.list_versions, "议案各版本", response=list[ProposalVersion],
          tags=TAGS),
    Route("POST", f"{P}/consultation", h.open_consultation,
          "对当前版本征求意见 (进行中再次调用即延长; 新版本则重新开始)", body=ConsultationIn,
          response=Consultation, access=MANAGERS, tags=TAGS),
    Route("GET", f"{P}/consultation", h.get_consultation, "征求意见状态", response=Consultation,
          tags=TAGS),
    Route("POST", f"{P}/consultation/close", h.close_consultation, "结束征求意见 (可重复调用)",
          response=Consultation, access=MANAGERS, tags=TAGS),
    Route("POST", f"{P}/opinions", h.give_opinion, "对征求意见中的版本发表意见", body=OpinionIn,
          response=Opinion, status=201, access=MEMBERS, idempotent=True, tags=TAGS),
    Route("GET", f"{P}/opinions", h.list_opinions, "意见列表 (可按版本筛选)", query=OpinionQuery,
          response=Page[Opinion], tags=TAGS),
    Route("GET", f"{P}/opinions/summary", h.opinion_summary, "各版本按立场统计的意见数",
          response=OpinionSummary, tags=TAGS),
]

ROUTES = [*PROPOSAL_ROUTES]
