"""Request and response types of proposals, consultation and opinions (msgspec Structs).

Votes are in votes/models.py, cost sharing in costs/models.py, council meetings in
councils/models.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

from linli.formats import INT32_MAX, exact
from linli.pagination import PageQuery

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000, pattern=r"\S")]
Text = Annotated[str, msgspec.Meta(max_length=2_000)]
OpinionText = Annotated[str, msgspec.Meta(min_length=1, max_length=2_000, pattern=r"\S")]
Fen = Annotated[int, msgspec.Meta(ge=0, le=10**13, description="金额, 单位: 分")]
Url = Annotated[str, msgspec.Meta(pattern=exact(r"https?://\S+"), max_length=1_000)]
Matter = Literal[
    "art278_1", "art278_2", "art278_3", "art278_4", "art278_5", "art278_6", "art278_7",
    "art278_8", "art278_9", "community",
]
Funding = Literal["maintenance_fund", "fee", "subsidy", "other"]
Stance = Literal["support", "oppose", "suggest"]

# 民法典 第二百七十八条 (items 1–9), and council business outside it.
MATTER_LABELS: dict[str, str] = {
    "art278_1": "制定和修改业主大会议事规则",
    "art278_2": "制定和修改管理规约",
    "art278_3": "选举业主委员会或者更换业主委员会成员",
    "art278_4": "选聘和解聘物业服务企业或者其他管理人",
    "art278_5": "使用建筑物及其附属设施的维修资金",
    "art278_6": "筹集建筑物及其附属设施的维修资金",
    "art278_7": "改建、重建建筑物及其附属设施",
    "art278_8": "改变共有部分的用途或者利用共有部分从事经营活动",
    "art278_9": "有关共有和共同管理权利的其他重大事项",
    "community": "社区公共事务 (不属于业主共同决定事项)",
}
FUNDING_LABELS: dict[str, str] = {
    "maintenance_fund": "专项维修资金", "fee": "物业费/业主分摊", "subsidy": "政府补贴",
    "other": "其他",
}
PROPOSAL_STATUSES = ("draft", "consultation", "consulted", "voting", "passed", "rejected")


class ProposalIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    matter: Matter
    body: Body
    budget_fen: Fen | None = None
    funding: Funding | None = None
    attachments: Annotated[list[Url], msgspec.Meta(max_length=20)] = []
    # the residents' issues (issues service) this proposal answers: they follow it
    issue_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=50)] = []


class VersionIn(msgspec.Struct, forbid_unknown_fields=True):
    body: Body
    change_summary: Annotated[str, msgspec.Meta(min_length=1, max_length=2_000, pattern=r"\S")]
    budget_fen: Fen | None = None
    # apps only (the workflow): the person whose decision this version carries out
    on_behalf_of: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


class ProposalVersion(msgspec.Struct):
    proposal_id: uuid.UUID
    number: int
    body: str
    change_summary: str
    budget_fen: int | None
    created_by: str
    created_at: dt.datetime


class Proposal(msgspec.Struct):
    id: uuid.UUID
    compound_id: uuid.UUID
    title: str
    matter: str
    matter_label: str
    status: str
    current_version: int
    body: str
    budget_fen: int | None
    funding: str | None
    attachments: list[str]
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    # the workflow running this proposal (e.g. proposal-<id>); while set, only it moves the steps
    managed_by: str | None = None
    issue_ids: list[uuid.UUID] = []  # the residents' issues that led to it


class ManagedByIn(msgspec.Struct, forbid_unknown_fields=True):
    """The workflow that runs the proposal from now on, or null when it ends."""

    workflow_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None


class WithdrawIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"\S")]


class ProposalQuery(PageQuery, kw_only=True):
    status: Literal["draft", "consultation", "consulted", "voting", "passed", "rejected",
                    "withdrawn"] | None = None


class ConsultationIn(msgspec.Struct, forbid_unknown_fields=True):
    closes_at: dt.datetime


class Consultation(msgspec.Struct):
    proposal_id: uuid.UUID
    version: int
    status: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    closed_at: dt.datetime | None = None


class OpinionIn(msgspec.Struct, forbid_unknown_fields=True):
    stance: Stance
    text: OpinionText


class Opinion(msgspec.Struct):
    id: uuid.UUID
    proposal_id: uuid.UUID
    version: int
    person_id: str
    stance: str
    text: str
    created_at: dt.datetime


class OpinionQuery(PageQuery, kw_only=True):
    version: Annotated[int, msgspec.Meta(ge=1, le=INT32_MAX)] | None = None


class StanceCounts(msgspec.Struct):
    version: int
    support: int = 0
    oppose: int = 0
    suggest: int = 0
    total: int = 0


class OpinionSummary(msgspec.Struct):
    proposal_id: uuid.UUID
    current_version: int
    consultation: Consultation | None
    versions: list[StanceCounts]
