"""The flat route table of the centre."""

from __future__ import annotations

from linli.auth import allow, people
from linli.http import Route
from linli.pagination import Page, PageQuery
from services.centre import handlers as h
from services.centre.models import (
    Activity,
    ActivityIn,
    ActivityQuery,
    Book,
    BookIn,
    Booking,
    BookingIn,
    BookingQuery,
    BookQuery,
    CentreStats,
    CheckInIn,
    Closure,
    ClosureIn,
    FeedbackIn,
    Group,
    GroupIn,
    Hold,
    HoldIn,
    JoinIn,
    Loan,
    LoanIn,
    Member,
    MoveIn,
    MyLibrary,
    Plan,
    PlanIn,
    PlanQuery,
    ReasonIn,
    Series,
    SeriesIn,
    Signup,
    SignupIn,
    StatsQuery,
    Venue,
    VenueIn,
)

# Who runs the centre: the community, the party branch, the owners' committee and the property
# company (and apps with centre:manage).
MANAGE = ["centre:manage"]
STAFF = allow("community", "party_branch", "owners_committee", "property", "street_office",
              scopes=MANAGE)
# What residents do for themselves (staff may act for them at the desk); apps only as staff.
BOOKERS = people("oneself; staff book for others", scopes=MANAGE)
BOOKER = people("the booker, or staff", scopes=MANAGE)
ORGANISERS = people("staff, or the interest group's leader for its activities", scopes=MANAGE)
SIGNERS = people("oneself; staff sign up residents", scopes=MANAGE)
SIGNED = people("the person signed up, or staff", scopes=MANAGE)
ATTENDEES = people("the person signed up (their code), or staff by sign-up number",
                   scopes=MANAGE)
PROPOSERS = people("a resident, who then leads the group", scopes=MANAGE)
MEMBER = people("oneself, or staff", scopes=MANAGE)
LEADERS = people("the group's leader, or staff", scopes=MANAGE)
BORROWERS = people("oneself; staff lend at the desk", scopes=MANAGE)
BORROWER = people("the borrower, or staff", scopes=MANAGE)
C = "/v1/compounds/{compound_id}"
B = f"{C}/bookings/{{booking_id}}"
A = f"{C}/activities/{{activity_id}}"
G = f"{C}/interest-groups/{{group_id}}"
VENUES, ACTIVITIES, GROUPS, LIBRARY = ("venues",), ("activities",), ("groups",), ("library",)

BOOKING_ACTIONS = [
    ("approve", None, "审核通过预约", STAFF),
    ("decline", ReasonIn, "驳回预约 (须说明原因)，时段释放", STAFF),
    ("cancel", None, "取消预约 (预约人或工作人员，开始前)，时段释放", BOOKER),
    ("no_show", None, "登记预约人未到场 (工作人员，时段开始后)", STAFF),
]
LOAN_ACTIONS = [
    ("return", "还书 (有人预约时为第一位预约人保留)", BORROWER),
    ("renew", "续借一次 (有人预约时不能续借)", BORROWER),
    ("lost", "登记遗失，馆藏减少一册", STAFF),
]

# The activity's timeline (ActivityWorkflow calls these at their times; each happens once).
TIMELINE = [
    ("remind", "活动前一天提醒报名成功的人"),
    ("request-feedback", "活动结束后请到场的人评分"),
    ("close", "活动结束归档，统计到场人数和平均评分"),
]

ROUTES = [
    Route("POST", f"{C}/venues", h.create_venue, "新增场地 (开放时间、容量、预约规则、设施)",
          body=VenueIn, response=Venue, status=201, access=STAFF, idempotent=True, tags=VENUES),
    Route("GET", f"{C}/venues", h.list_venues, "场地列表 (一页全部)", response=Page[Venue],
          tags=VENUES),
    Route("GET", f"{C}/venues/{{venue_id}}", h.get_venue, "场地详情", response=Venue,
          tags=VENUES),
    Route("POST", f"{C}/venues/{{venue_id}}/closures", h.add_closure,
          "登记闭馆 (节假日、维修)", body=ClosureIn, response=Closure, status=201, access=STAFF,
          idempotent=True, tags=VENUES),
    Route("GET", f"{C}/venues/{{venue_id}}/closures", h.list_closures, "场地今后的闭馆安排 (一页全部)",
          response=Page[Closure], tags=VENUES),
    Route("POST", f"{C}/bookings", h.book,
          "预约场地 (须在开放时间内、不与他人重叠；需审核的场地先保留时段待审核)",
          body=BookingIn, response=Booking, status=201, idempotent=True, access=BOOKERS, tags=VENUES),
    Route("GET", f"{C}/bookings", h.list_bookings, "预约列表 (mine=true 只看自己的)",
          query=BookingQuery, response=Page[Booking], tags=VENUES),
    Route("GET", B, h.get_booking, "预约详情", response=Booking, tags=VENUES),
    *[Route("POST", f"{B}/{name}", h.booking_action(name), summary, body=body,
            response=Booking, access=access, tags=VENUES)
      for name, body, summary, access in BOOKING_ACTIONS],
    Route("POST", f"{B}/move", h.move_booking, "改期 (如系列预约中的一次)", body=MoveIn,
          response=Booking, access=BOOKER, tags=VENUES),
    Route("POST", f"{C}/booking-series", h.create_series,
          "定期预约 (每周几的固定时段)：能约的都约上，冲突的逐次列出原因", body=SeriesIn,
          response=Series, status=201, idempotent=True, access=BOOKERS, tags=VENUES),
    Route("GET", f"{C}/booking-series/{{series_id}}", h.get_series, "定期预约的各次预约",
          response=Series, tags=VENUES),
    Route("POST", f"{C}/activity-plans", h.create_plan,
          "新建某一居民群体 (老年人、亲子家庭、青年上班族…) 的月度或季度活动计划",
          body=PlanIn, response=Plan, status=201, access=STAFF, idempotent=True,
          tags=ACTIVITIES),
    Route("GET", f"{C}/activity-plans", h.list_plans, "活动计划列表", query=PlanQuery,
          response=Page[Plan], tags=ACTIVITIES),
    Route("GET", f"{C}/activity-plans/{{plan_id}}", h.get_plan, "活动计划及其活动",
          response=Plan, tags=ACTIVITIES),
    Route("POST", f"{C}/activity-plans/{{plan_id}}/publish", h.publish_plan,
          "发布活动计划 (张贴到小区公告栏)", response=Plan, access=STAFF, tags=ACTIVITIES),
    Route("POST", f"{C}/activities", h.create_activity,
          "发布活动 (可同时预约场地；兴趣小组的活动由组长发布)", body=ActivityIn,
          response=Activity, status=201, idempotent=True, access=ORGANISERS, tags=ACTIVITIES),
    Route("GET", f"{C}/activities", h.list_activities, "活动列表 (含已报名和候补人数)",
          query=ActivityQuery, response=Page[Activity], tags=ACTIVITIES),
    Route("GET", A, h.get_activity, "活动详情", response=Activity, tags=ACTIVITIES),
    Route("POST", f"{A}/cancel", h.cancel_activity, "取消活动 (释放场地，通知所有报名的人)",
          body=ReasonIn, response=Activity, access=ORGANISERS, tags=ACTIVITIES),
    *[Route("POST", f"{A}/{name}", h.timeline_step(name), summary, response=Activity,
            access=STAFF, tags=ACTIVITIES) for name, summary in TIMELINE],
    Route("POST", f"{A}/signups", h.sign_up,
          "报名 (名额满时进入候补，按先后顺序递补；工作人员可代居民报名)", body=SignupIn | None,
          response=Signup, status=201, idempotent=True, access=SIGNERS, tags=ACTIVITIES),
    Route("GET", f"{A}/signups", h.list_signups,
          "报名名单 (工作人员看全部，本人看自己的; 已报名在前，候补按顺序; 分页)",
          query=PageQuery, response=Page[Signup], tags=ACTIVITIES),
    Route("POST", f"{A}/signups/{{signup_id}}/cancel", h.cancel_signup,
          "取消报名 (候补第一位自动递补)", response=Signup, access=SIGNED, tags=ACTIVITIES),
    Route("POST", f"{A}/signups/{{signup_id}}/confirm", h.confirm_signup,
          "临近开始时递补的人确认参加 (须在 confirm_by 前，否则名额顺延给下一位)",
          response=Signup, access=SIGNED, tags=ACTIVITIES),
    Route("POST", f"{A}/check-in", h.check_in, "现场签到 (本人出示签到码，或工作人员按报名编号)",
          body=CheckInIn, response=Signup, access=ATTENDEES, tags=ACTIVITIES),
    Route("POST", f"{A}/signups/{{signup_id}}/feedback", h.feedback, "活动后评分 (1–5)",
          body=FeedbackIn, response=Signup, access=SIGNED, tags=ACTIVITIES),
    Route("POST", f"{C}/interest-groups", h.propose_group,
          "发起兴趣小组 (居民发起待社区审核，发起人任组长)", body=GroupIn, response=Group,
          status=201, idempotent=True, access=PROPOSERS, tags=GROUPS),
    Route("GET", f"{C}/interest-groups", h.list_groups, "兴趣小组列表 (分页)", query=PageQuery,
          response=Page[Group],
          tags=GROUPS),
    Route("GET", G, h.get_group, "兴趣小组主页 (人数、组长、近期活动)", response=Group,
          tags=GROUPS),
    Route("POST", f"{G}/approve", h.approve_group, "审核通过兴趣小组", response=Group,
          access=STAFF, tags=GROUPS),
    Route("POST", f"{G}/members", h.join_group, "加入兴趣小组 (需组长同意的小组先待同意)",
          body=JoinIn | None, response=Member, status=201, idempotent=True, access=MEMBER, tags=GROUPS),
    Route("GET", f"{G}/members", h.group_members, "小组成员 (组长在前; 分页)", query=PageQuery,
          response=Page[Member],
          tags=GROUPS),
    Route("POST", f"{G}/members/{{person_id}}/accept", h.accept_member, "组长同意入组",
          response=Member, access=LEADERS, tags=GROUPS),
    Route("POST", f"{G}/members/{{person_id}}/leave", h.leave_group, "退出兴趣小组",
          response=Member, access=MEMBER, tags=GROUPS),
    Route("POST", f"{C}/books", h.add_book, "图书角上架图书 (书名、作者、ISBN、册数、捐赠人)",
          body=BookIn, response=Book, status=201, access=STAFF, idempotent=True, tags=LIBRARY),
    Route("GET", f"{C}/books", h.list_books, "图书目录 (含在借、可借和预约人数)",
          query=BookQuery, response=Page[Book], tags=LIBRARY),
    Route("GET", f"{C}/books/{{book_id}}", h.get_book, "图书详情", response=Book, tags=LIBRARY),
    Route("POST", f"{C}/loans", h.lend, "借书 (本人借，或工作人员在前台代借)", body=LoanIn,
          response=Loan, status=201, idempotent=True, access=BORROWERS, tags=LIBRARY),
    Route("GET", f"{C}/loans", h.on_loan,
          "在借的书 (工作人员; 应还日期早的在前, 逾期的最先; 分页)", query=PageQuery,
          response=Page[Loan], access=STAFF, tags=LIBRARY),
    *[Route("POST", f"{C}/loans/{{loan_id}}/{name}", h.loan_action(name), summary,
            response=Loan, access=access, tags=LIBRARY)
      for name, summary, access in LOAN_ACTIONS],
    Route("POST", f"{C}/holds", h.place_hold, "预约已借完的书 (按先后排队)", body=HoldIn,
          response=Hold, status=201, idempotent=True, access=BORROWERS, tags=LIBRARY),
    Route("POST", f"{C}/holds/{{hold_id}}/cancel", h.cancel_hold, "取消预约", response=Hold,
          access=BORROWER, tags=LIBRARY),
    Route("GET", f"{C}/my-library", h.my_library, "我的借阅和预约", response=MyLibrary,
          tags=LIBRARY),
    Route("GET", f"{C}/centre-stats", h.centre_stats,
          "邻里中心统计：各场地每周使用率 (已约小时/开放小时)、各居民群体和兴趣小组的参与、每月借阅",
          query=StatsQuery, response=CentreStats, access=STAFF, tags=("stats",)),
]
