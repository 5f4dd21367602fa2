"""The flat route table of volunteers."""

from __future__ import annotations

from linli.auth import allow, people
from linli.http import Route
from linli.pagination import Page, PageQuery
from services.volunteers import handlers as h
from services.volunteers import rules
from services.volunteers.models import (
    AssignIn,
    CarePlan,
    CarePlanIn,
    CareVisit,
    CompleteIn,
    HistoryEntry,
    LedgerEntry,
    LedgerQuery,
    LedgerStats,
    MenuItem,
    MenuItemIn,
    MenuQuery,
    Order,
    OrderIn,
    OrderQuery,
    PlanQuery,
    RateIn,
    ReasonIn,
    Skill,
    SkillIn,
    VisitIn,
    Volunteer,
    VolunteerIn,
    VolunteerPatch,
    VolunteerQuery,
)

# Who runs the volunteer service: the community (居委会) and the party branch (and apps).
MANAGE = [rules.MANAGE_SCOPE]
STAFF = allow(*rules.STAFF, scopes=MANAGE)
# What people do in their own name, with staff acting for them; apps only as staff.
REGISTRANTS = people("oneself; staff register others", scopes=MANAGE)
VOLUNTEER_OR_STAFF = people("the volunteer themself, or staff", scopes=MANAGE)
PUBLISHERS = people("a verified volunteer within their skills; staff publish for a team",
                    scopes=MANAGE)
WITHDRAWERS = people("whoever published the item, or staff", scopes=MANAGE)
ORDERERS = people("a resident for themself; staff on a resident's behalf (on_behalf_of)",
                  scopes=MANAGE)
VISITORS = people("the plan's volunteer, or staff", scopes=MANAGE)
C = "/v1/compounds/{compound_id}"
O = f"{C}/volunteer-orders/{{order_id}}"  # noqa: E741
P = f"{C}/care-plans/{{plan_id}}"
TAGS = ("volunteers",)
CARE = ("care",)

ORDER_ACTIONS = [
    ("accept", None, "志愿者接单 (本小区已审核、具备该技能；两人同时接单只有一人成功)",
     people("a verified volunteer of the compound with the skill, not for their own order")),
    ("assign", AssignIn, "社区派单给具备该技能的志愿者", STAFF),
    ("decline", ReasonIn, "接单志愿者退单 (须说明原因)，订单回到待接单",
     people("the volunteer who accepted the order, or staff", scopes=MANAGE)),
    ("start", None, "接单志愿者开始服务", people("the volunteer who accepted the order")),
    ("complete", CompleteIn, "完成服务，记录时长 (分钟) 和服务情况，记入服务台账",
     people("the volunteer who accepted the order, or staff", scopes=MANAGE)),
    ("rate", RateIn, "点单居民评价服务 (1–5 分)", people("the resident who ordered")),
    ("cancel", ReasonIn, "服务开始前取消订单 (点单居民或社区，须说明原因)",
     people("the resident who ordered, or staff", scopes=MANAGE)),
]

ROUTES = [
    Route("GET", f"{C}/volunteer-skills", h.list_skills,
          "服务技能 (首次使用时生成默认技能; 一页全部)", response=Page[Skill], tags=TAGS),
    Route("PUT", f"{C}/volunteer-skills/{{code}}", h.put_skill, "新建或修改服务技能",
          body=SkillIn, response=Skill, access=STAFF, tags=TAGS),
    Route("POST", f"{C}/volunteers", h.register,
          "登记志愿者 (本人登记待审核；社区或党组织代登记即通过)", body=VolunteerIn,
          response=Volunteer, status=201, access=REGISTRANTS, idempotent=True, tags=TAGS),
    Route("GET", f"{C}/volunteers", h.list_volunteers, "志愿者列表", query=VolunteerQuery,
          response=Page[Volunteer], tags=TAGS),
    Route("GET", f"{C}/volunteers/{{volunteer_id}}", h.get_volunteer, "志愿者详情",
          response=Volunteer, tags=TAGS),
    Route("PATCH", f"{C}/volunteers/{{volunteer_id}}", h.update_volunteer,
          "修改技能、服务时间、服务队、党员身份 (志愿者本人或社区)", body=VolunteerPatch,
          response=Volunteer, access=VOLUNTEER_OR_STAFF, tags=TAGS),
    Route("POST", f"{C}/volunteers/{{volunteer_id}}/verify", h.verify,
          "审核通过志愿者 (暂停服务的志愿者重新审核后恢复)", response=Volunteer, access=STAFF,
          tags=TAGS),
    Route("POST", f"{C}/volunteers/{{volunteer_id}}/suspend", h.suspend,
          "暂停志愿者服务 (须说明原因)", body=ReasonIn, response=Volunteer, access=STAFF,
          tags=TAGS),
    Route("POST", f"{C}/service-menu", h.publish,
          "发布服务到服务菜单 (已审核志愿者发布本人技能内的服务，社区可代志愿服务队发布)",
          body=MenuItemIn, response=MenuItem, status=201, access=PUBLISHERS, idempotent=True,
          tags=TAGS),
    Route("GET", f"{C}/service-menu", h.list_menu, "服务菜单", query=MenuQuery,
          response=Page[MenuItem], tags=TAGS),
    Route("GET", f"{C}/service-menu/{{item_id}}", h.get_item, "服务项目详情",
          response=MenuItem, tags=TAGS),
    Route("POST", f"{C}/service-menu/{{item_id}}/withdraw", h.withdraw, "下架服务 (发布者或社区)",
          response=MenuItem, access=WITHDRAWERS, tags=TAGS),
    Route("POST", f"{C}/volunteer-orders", h.place,
          "按需点单 (居民为自己点单；工作人员可通过 on_behalf_of 代居民点单)", body=OrderIn,
          response=Order, status=201, access=ORDERERS, idempotent=True, tags=TAGS),
    Route("GET", f"{C}/volunteer-orders", h.list_orders,
          "订单列表 (居民看自己的，志愿者看可接和已接的，工作人员看全部)", query=OrderQuery,
          response=Page[Order], tags=TAGS),
    Route("GET", O, h.get_order, "订单详情", response=Order, tags=TAGS),
    Route("GET", f"{O}/history", h.order_history, "订单流转记录 (一页全部)",
          response=Page[HistoryEntry],
          tags=TAGS),
    *[Route("POST", f"{O}/{name}", h.action(name), summary, body=body, response=Order,
            access=access, tags=TAGS) for name, body, summary, access in ORDER_ACTIONS],
    Route("GET", f"{C}/service-ledger", h.ledger_entries, "服务台账 (每次完成的服务及时长)",
          query=LedgerQuery, response=Page[LedgerEntry], access=STAFF, tags=TAGS),
    Route("GET", f"{C}/service-ledger/stats", h.ledger_stats,
          "服务统计 (服务次数、时长、平均评分，按技能和志愿者)", response=LedgerStats, tags=TAGS),
    Route("GET", f"{C}/service-ledger.csv", h.ledger_csv, "导出服务台账 CSV",
          access=STAFF, tags=TAGS),
    Route("POST", f"{C}/care-plans", h.create_plan, "建立定期关爱计划 (指定志愿者和探访周期)",
          body=CarePlanIn, response=CarePlan, status=201, access=STAFF, idempotent=True,
          tags=CARE),
    Route("GET", f"{C}/care-plans", h.list_plans, "关爱计划 (工作人员看全部，志愿者看自己的)",
          query=PlanQuery, response=Page[CarePlan], tags=CARE),
    Route("GET", P, h.get_plan, "关爱计划详情 (含下一次探访)", response=CarePlan, tags=CARE),
    Route("POST", f"{P}/end", h.end_plan, "结束关爱计划", response=CarePlan, access=STAFF,
          tags=CARE),
    Route("GET", f"{P}/visits", h.plan_visits, "关爱计划的探访记录 (按次序分页)",
          query=PageQuery, response=Page[CareVisit],
          tags=CARE),
    Route("POST", f"{P}/visits/{{visit_id}}/record", h.record_visit,
          "记录一次探访 (计划指定的志愿者或社区)", body=VisitIn, response=CareVisit,
          access=VISITORS, tags=CARE),
    Route("POST", f"{P}/visits/{{visit_id}}/miss", h.miss_visit,
          "到期未记录的探访标记为错过 (由定期关爱流程在到期时调用；已处理的探访原样返回)",
          response=CareVisit, access=STAFF, tags=CARE),
    Route("GET", f"{C}/care-flags", h.care_flags, "到期未记录的探访 (待社区跟进; 分页)",
          query=PageQuery, response=Page[CareVisit], access=STAFF, tags=CARE),
    Route("POST", f"{C}/care-visits/{{visit_id}}/acknowledge", h.acknowledge,
          "标记错过的探访已跟进", response=CareVisit, access=STAFF, tags=CARE),
]
