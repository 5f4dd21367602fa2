"""The meetings service's flat route table (proposals, votes, cost sharing, meetings)."""

from __future__ import annotations

from linli.auth import MEMBERS, PUBLIC, allow, people
from linli.http import Route
from linli.pagination import Page, PageQuery
from services.meetings.costs import handlers as ch
from services.meetings.costs.models import (
    Bill,
    BillIn,
    CompareQuery,
    Comparison,
    CostIn,
    Payment,
    PaymentIn,
    Plan,
    PlanIn,
    Reading,
    ReadingsImported,
    ReadingsIn,
    ReadingsQuery,
    SharedCost,
    UnpaidLine,
    UnpaidQuery,
)
from services.meetings.councils import handlers as sh
from services.meetings.councils.models import (
    AgendaItem,
    AgendaItemIn,
    AgendaOrderIn,
    CalendarFeed,
    CalendarFeedCreated,
    CalendarFeedIn,
    CheckInIn,
    FollowUpIn,
    Invitee,
    ItemOpinionIn,
    Meeting,
    MeetingCancelIn,
    MeetingIn,
    Minutes,
    MinutesEdit,
    OutcomeIn,
    PublishIn,
    Quorum,
    RsvpIn,
)
from services.meetings.proposals import handlers as h
from services.meetings.proposals.models import (
    Consultation,
    ConsultationIn,
    ManagedByIn,
    Opinion,
    OpinionIn,
    OpinionQuery,
    OpinionSummary,
    Proposal,
    ProposalIn,
    ProposalQuery,
    ProposalVersion,
    VersionIn,
    WithdrawIn,
)
from services.meetings.votes import handlers as vh
from services.meetings.votes.models import (
    Ballot,
    BallotIn,
    Candidate,
    Election,
    ElectionBallotIn,
    ElectionIn,
    EnteredBallot,
    MyBallots,
    NonVoters,
    PaperBallotIn,
    PaperElectionBallotIn,
    Turnout,
    Vote,
    VoteCancelIn,
    VoteIn,
    VoteResult,
)

# Who runs the council's business: the party branch, the community, the owners' committee,
# the street office, and apps (workflows) holding meetings:manage.
MANAGE = "meetings:manage"
MANAGERS = allow("party_branch", "community", "owners_committee", "street_office", scopes=[MANAGE])
PROPOSERS = allow("party_branch", "community", "owners_committee", "street_office", "property",
                  "resident_rep", scopes=[MANAGE])
# Paper and proxy ballots are entered by the officers who count them, or the owners' committee.
OFFICERS = allow("officer", "owners_committee", scopes=[MANAGE])
# Cancelling an open vote: the council's convening organisations, officers, or workflows.
VOTE_CANCELLERS = allow("party_branch", "community", "owners_committee", "street_office",
                        "officer", scopes=[MANAGE])
# Only the workflow worker (an app holding meetings:manage) marks the proposals it runs.
WORKFLOW_APPS = allow(scopes=[MANAGE])
REMINDERS = allow("officer", "party_branch", "community", "owners_committee", "street_office",
                  scopes=[MANAGE])
# Shared costs are kept by the property company with the council's organisations.
COST_KEEPERS = allow("property", "party_branch", "community", "owners_committee", "street_office",
                     scopes=[MANAGE])
# What members do in their own name; apps only with meetings:manage.
OPINION_GIVERS = people("a member of the compound, in their own name, while the version is in "
                        "consultation", scopes=[MANAGE])
ROLL_VOTERS = people("an owner on the vote's frozen roll, in their own name")
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
    Route("GET", f"{P}/versions", h.list_versions, "议案各版本 (一页全部)",
          response=Page[ProposalVersion],
          tags=TAGS),
    Route("POST", f"{P}/consultation", h.open_consultation,
          "对当前版本征求意见 (进行中再次调用即延长; 新版本则重新开始)", body=ConsultationIn,
          response=Consultation, access=MANAGERS, tags=TAGS),
    Route("GET", f"{P}/consultation", h.get_consultation, "征求意见状态", response=Consultation,
          tags=TAGS),
    Route("POST", f"{P}/consultation/close", h.close_consultation, "结束征求意见 (可重复调用)",
          response=Consultation, access=MANAGERS, tags=TAGS),
    Route("PUT", f"{P}/managed-by", h.set_managed_by,
          "流程标记其推进的议案 (结束时清除); 标记期间征求意见、版本、表决、撤回只由流程完成",
          body=ManagedByIn, response=Proposal, access=WORKFLOW_APPS, tags=TAGS),
    Route("POST", f"{P}/withdraw", vh.withdraw,
          "撤回议案 (结束进行中的征求意见, 取消进行中的表决; 可重复调用)", body=WithdrawIn,
          response=Proposal, access=MANAGERS, tags=TAGS),
    Route("POST", f"{P}/opinions", h.give_opinion, "对征求意见中的版本发表意见", body=OpinionIn,
          response=Opinion, status=201, access=OPINION_GIVERS, idempotent=True, tags=TAGS),
    Route("GET", f"{P}/opinions", h.list_opinions, "意见列表 (可按版本筛选)", query=OpinionQuery,
          response=Page[Opinion], tags=TAGS),
    Route("GET", f"{P}/opinions/summary", h.opinion_summary, "各版本按立场统计的意见数",
          response=OpinionSummary, tags=TAGS),
]

V = f"{C}/votes/{{vote_id}}"
VT = ("votes",)

VOTE_ROUTES = [
    Route("POST", f"{P}/votes", vh.open_vote,
          "对议案某一版本发起表决 (冻结业主名册; 第278条事项按法定规则)", body=VoteIn,
          response=Vote, status=201, access=MANAGERS, idempotent=True, tags=VT),
    Route("GET", f"{P}/votes", vh.list_votes, "议案的各次表决 (一页全部)", response=Page[Vote],
          tags=VT),
    Route("GET", V, vh.get_vote, "表决详情", response=Vote, tags=VT),
    Route("POST", f"{V}/ballots", vh.cast_online,
          "业主在线投票 (记名表决可在截止前改票; 无记名表决不可改)", body=BallotIn,
          response=Ballot, status=201, access=ROLL_VOTERS, tags=VT),
    Route("GET", f"{V}/ballots/mine", vh.my_ballots,
          "我的选票: 本人在冻结名册上的条目及所投意见 (只含本人; 无记名表决须带投票时得到的"
          " X-Ballot-Receipt 才显示意见, 否则只说已投)", response=MyBallots, access=ROLL_VOTERS,
          tags=VT, headers={"X-Ballot-Receipt": "无记名表决投票时得到的回执 (receipt), 用来看回自己所投"
                            "的意见; 服务不保存它"}),
    Route("POST", f"{V}/paper-ballots", vh.cast_paper, "录入纸质或代理投票 (记录录入人)",
          body=PaperBallotIn, response=Ballot, status=201, access=OFFICERS, tags=VT),
    Route("GET", f"{V}/paper-ballots", vh.entered_ballots,
          "纸质与代理投票的录入记录 (审计; 无记名表决不含意见; 按录入时间分页)", query=PageQuery,
          response=Page[EnteredBallot],
          access=REMINDERS, tags=VT),
    Route("GET", f"{V}/turnout", vh.turnout, "实时参与情况 (面积与人数)", response=Turnout, tags=VT),
    Route("GET", f"{V}/non-voters", vh.non_voters, "尚未投票的业主 (用于提醒)",
          response=NonVoters, access=REMINDERS, tags=VT),
    Route("POST", f"{V}/close", vh.close, "结束表决并计票 (可重复调用)", response=VoteResult,
          access=MANAGERS, tags=VT),
    Route("POST", f"{V}/cancel", vh.cancel,
          "取消进行中的表决 (须说明原因; 不计票, 选票留存备查; 可重复调用)", body=VoteCancelIn,
          response=Vote, access=VOTE_CANCELLERS, tags=VT),
    Route("POST", f"{P}/elections", vh.open_election,
          "发起业主委员会选举 (第278条第3项: 奇数席位, 候选人须为名册上的业主; 冻结业主名册)",
          body=ElectionIn, response=Election, status=201, access=MANAGERS, idempotent=True,
          tags=VT),
    Route("GET", f"{V}/candidates", vh.candidates, "选举的候选人名单 (一页全部)",
          response=Page[Candidate],
          tags=VT),
    Route("POST", f"{V}/election-ballots", vh.cast_election_online,
          "业主在线投选票 (赞成人数不超过席位数; 未标记的候选人计为弃权)",
          body=ElectionBallotIn, response=Ballot, status=201, access=ROLL_VOTERS, tags=VT),
    Route("POST", f"{V}/paper-election-ballots", vh.cast_election_paper,
          "录入纸质或代理选票 (记录录入人)", body=PaperElectionBallotIn, response=Ballot,
          status=201, access=OFFICERS, tags=VT),
    Route("GET", f"{V}/result", vh.result,
          "表决结果: 各项门槛的应达值与实达值 (无记名表决结束后才公布)", response=VoteResult,
          tags=VT),
]

K = f"{C}/costs/{{cost_id}}"
KT = ("costs",)

COST_ROUTES = [
    Route("POST", f"{C}/costs", ch.create_cost, "登记共有费用及其受益单元 (单元/楼层/楼栋)",
          body=CostIn, response=SharedCost, status=201, access=COST_KEEPERS, idempotent=True,
          tags=KT),
    Route("GET", f"{C}/costs", ch.list_costs, "共有费用列表 (按登记时间分页)", query=PageQuery,
          response=Page[SharedCost], tags=KT),
    Route("GET", K, ch.get_cost, "共有费用及受益单元", response=SharedCost, tags=KT),
    Route("POST", f"{K}/readings", ch.record_readings, "录入某期计量读数", body=ReadingsIn,
          response=ReadingsImported, status=201, access=COST_KEEPERS, tags=KT),
    Route("POST", f"{K}/readings/import", ch.import_readings,
          "CSV 导入计量读数 (text/csv; 表头 building,number,period,usage; 有错行则全部不写入)",
          response=ReadingsImported, status=201, access=COST_KEEPERS, tags=KT),
    Route("GET", f"{K}/readings", ch.list_readings, "某期计量读数 (按单元分页)",
          query=ReadingsQuery, response=Page[Reading], tags=KT),
    Route("POST", f"{K}/plans", ch.create_plan,
          "提出分摊方案 (equal/area/usage/floor_band/weighted, 权重之和须为 1)", body=PlanIn,
          response=Plan, status=201, access=COST_KEEPERS, idempotent=True, tags=KT),
    Route("GET", f"{K}/plans", ch.list_plans, "分摊方案列表 (一页全部)", response=Page[Plan],
          tags=KT),
    Route("GET", f"{K}/compare", ch.compare, "各方案逐户对比 (含与基准方案的差额)",
          query=CompareQuery, response=Comparison, tags=KT),
    Route("POST", f"{K}/plans/{{plan_id}}/adopt", ch.adopt, "采纳分摊方案", response=Plan,
          access=MANAGERS, tags=KT),
    Route("POST", f"{K}/bills", ch.issue_bills, "按采纳方案出具某期账单 (以分计, 合计精确相等)",
          body=BillIn, response=Bill, status=201, access=COST_KEEPERS, idempotent=True, tags=KT),
    Route("GET", f"{K}/bills/{{period}}", ch.get_bill, "某期账单", response=Bill, tags=KT),
    Route("GET", f"{K}/bills", ch.list_bills, "该费用已出具的各期账单 (新的在前, 分页)",
          query=PageQuery, response=Page[Bill], tags=KT),
    Route("POST", f"{K}/bills/{{period}}/payments", ch.record_payment,
          "登记某户这期账单已缴 (每户每期一次; 重复登记返回首次记录)", body=PaymentIn,
          response=Payment, status=201, access=COST_KEEPERS, tags=KT),
    Route("GET", f"{C}/unpaid-bills", ch.unpaid,
          "未缴的账单 (可按房屋筛选; 业委会候选人资格核查用; 按期间分页)",
          query=UnpaidQuery, response=Page[UnpaidLine], access=COST_KEEPERS, tags=KT),
]

M = f"{C}/meetings/{{meeting_id}}"
ITEM = f"{M}/agenda/{{item_id}}"
MT = ("meetings",)
# Convening is for the council's organisations; managing a meeting is then checked against
# its convener organisation (councils.service.require_manager), which no role in a token says.
CONVENERS = allow("party_branch", "community", "owners_committee", "street_office",
                  scopes=[MANAGE])
CONVENER_SIDE = people("a member of the meeting's convener organisation (or an admin)",
                       scopes=[MANAGE])
INVITEES = people("an invitee, in their own name")
FEED_OWNER = people("the person themself: their own calendar feeds")
CHECK_IN = people("an invitee in their own name, or the convener organisation for another "
                  "invitee", scopes=[MANAGE])

MEETING_ROUTES = [
    Route("POST", f"{C}/meetings", sh.convene, "召集会议 (按 1+3+N 名册邀请组织和个人)",
          body=MeetingIn, response=Meeting, status=201, access=CONVENERS, idempotent=True,
          tags=MT),
    Route("GET", f"{C}/meetings", sh.list_meetings, "会议列表 (按开始时间分页)",
          query=PageQuery, response=Page[Meeting], tags=MT),
    Route("GET", f"{C}/meetings.ics", sh.calendar, "小区会议日历 (iCalendar, text/calendar)",
          tags=MT),
    Route("POST", "/v1/me/calendar-feeds", sh.create_feed,
          "创建本人的日历订阅地址 (含密钥, 只显示这一次; 日历应用无需令牌即可订阅)",
          body=CalendarFeedIn, response=CalendarFeedCreated, status=201, access=FEED_OWNER,
          tags=MT),
    Route("GET", "/v1/me/calendar-feeds", sh.list_feeds, "本人的日历订阅地址 (不含密钥; 含已停用的; 分页)",
          query=PageQuery, response=Page[CalendarFeed], access=FEED_OWNER, tags=MT),
    Route("DELETE", "/v1/me/calendar-feeds/{feed_id}", sh.revoke_feed,
          "停用本人的一个日历订阅地址 (此后该地址返回 410)", response=CalendarFeed,
          access=FEED_OWNER, tags=MT),
    Route("GET", "/v1/calendar-feeds/{secret}.ics", sh.personal_calendar,
          "个人会议日历 (iCalendar; 地址中的密钥即凭证; 所在小区的会议及本人受邀的会议;"
          " 创建时本人登记所在的小区, 迁出后不再列出; 人员登记服务不可用时 503)",
          access=PUBLIC, params={"secret": "创建订阅地址时得到的密钥"}, tags=MT),
    Route("GET", f"{C}/agenda-items", sh.unscheduled, "待排入会议的议程事项 (如升级的居民诉求; 分页)",
          query=PageQuery, response=Page[AgendaItem], tags=MT),
    Route("GET", M, sh.get_meeting, "会议详情 (议程、受邀人、到会情况)", response=Meeting, tags=MT),
    Route("POST", f"{M}/agenda", sh.add_item, "添加议程事项 (召集组织)", body=AgendaItemIn,
          response=AgendaItem, status=201, access=CONVENER_SIDE, idempotent=True, tags=MT),
    Route("PUT", f"{M}/agenda/order", sh.reorder, "调整议程顺序 (按新顺序给出全部事项 id; 召集组织)",
          body=AgendaOrderIn, response=list[AgendaItem], access=CONVENER_SIDE, tags=MT),
    Route("POST", f"{M}/cancel", sh.cancel, "取消会议 (召集组织; 须说明原因; 已形成纪要的不能取消)",
          body=MeetingCancelIn, response=Meeting, access=CONVENER_SIDE, tags=MT),
    Route("POST", f"{M}/rsvp", sh.rsvp, "受邀人回复是否参会", body=RsvpIn, response=Invitee,
          access=INVITEES, tags=MT),
    Route("POST", f"{M}/check-in", sh.check_in, "签到 (本人, 或召集组织代为签到)", body=CheckInIn,
          response=Invitee, access=CHECK_IN, tags=MT),
    Route("GET", f"{M}/quorum", sh.quorum, "按会议类型判断到会人数是否足以作出决定",
          response=Quorum, tags=MT),
    Route("POST", f"{ITEM}/opinions", sh.item_opinion,
          "记录发言人意见 (召集组织; 发言人须属于本小区, 未填姓名时取登记姓名)",
          body=ItemOpinionIn, response=AgendaItem, status=201, access=CONVENER_SIDE, idempotent=True,
          tags=MT),
    Route("POST", f"{ITEM}/outcome", sh.item_outcome, "记录事项结论 (共识/表决/暂缓/转交)",
          body=OutcomeIn, response=AgendaItem, access=CONVENER_SIDE, tags=MT),
    Route("POST", f"{ITEM}/actions", sh.item_action, "添加后续事项 (责任组织与期限)",
          body=FollowUpIn, response=AgendaItem, status=201, access=CONVENER_SIDE, idempotent=True,
          tags=MT),
    Route("POST", f"{M}/minutes", sh.draft_minutes, "根据记录生成纪要草稿", response=Minutes,
          status=201, access=CONVENER_SIDE, tags=MT),
    Route("PUT", f"{M}/minutes", sh.edit_minutes, "修改纪要草稿", body=MinutesEdit,
          response=Minutes, access=CONVENER_SIDE, tags=MT),
    Route("POST", f"{M}/minutes/approve", sh.approve_minutes, "召集人批准纪要", response=Minutes,
          access=CONVENER_SIDE, tags=MT),
    Route("POST", f"{M}/minutes/publish", sh.publish_minutes, "公示纪要 (天数)", body=PublishIn,
          response=Minutes, access=CONVENER_SIDE, tags=MT),
    Route("GET", f"{M}/minutes", sh.read_minutes, "会议纪要 (居民可读已公示的)", response=Minutes,
          tags=MT),
]

ROUTES = [*PROPOSAL_ROUTES, *VOTE_ROUTES, *COST_ROUTES, *MEETING_ROUTES]
