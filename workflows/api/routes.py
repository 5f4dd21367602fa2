"""The workflow API's one route table: the generic routes of every workflow kind (start, state,
signals, updates, cancel), then each workflow's own (care plans, centre activities)."""

from __future__ import annotations

from typing import Any

from linli.auth import STAFF_ROLES, allow, people
from linli.http import Route
from workflows.api import handlers as h
from workflows.api.models import (
    Accepted,
    CancelIn,
    RatingDone,
    RatingIn,
    StartDoc,
    Started,
    StartIn,
    UpdateDone,
    WorkflowView,
)
from workflows.care import routes as care
from workflows.centre_activity import routes as centre_activity

# Staff of 1+3+N run the processes; apps (e.g. the issues service, a council app) use the scope.
STAFF = allow(*sorted(STAFF_ROLES), scopes=["workflows:start"])
# Residents rate the works themselves: any member of the workflow's compound, in their own name.
RATERS = people("a member of the workflow's compound, rating in their own name")
W = "/v1/workflows/{workflow_id}"
TAGS = ("workflows",)

def _kinds_accepting(name: str, of: str) -> str:
    return "、".join(k.name for k in h.KINDS.values() if name in getattr(k, of))


# one route per signal and per update, so OpenAPI shows each body with its types and defaults
# (the body is still decoded as a JSON object and checked by the handler: unknown fields refused)
SIGNAL_ROUTES = [
    Route("POST", f"{W}/signals/{name}", h.named(h.send_signal, name),
          f"向流程发送信号 {name} ({_kinds_accepting(name, 'signals')}; 当前阶段须接受它)",
          body=dict[str, Any], body_doc=payload, response=Accepted, status=202, access=STAFF,
          tags=TAGS)
    for name, (payload, _steps) in {n: s for k in h.KINDS.values()
                                    for n, s in k.signals.items()}.items()]
UPDATE_ROUTES = [
    Route("POST", f"{W}/updates/{name}", h.named(h.run_update, name),
          f"对流程执行更新 {name} ({_kinds_accepting(name, 'updates')}; 流程判断此刻是否合法, "
          "否则 409)", body=dict[str, Any], body_doc=payload, response=UpdateDone,
          access=STAFF, tags=TAGS)
    for name, payload in {n: p for k in h.KINDS.values() for n, p in k.updates.items()}.items()]

WORKFLOW_ROUTES = [
    Route("POST", "/v1/workflows", h.start, "启动流程 (同一幂等键重复启动返回同一运行)", body=StartIn,
          body_doc=StartDoc, response=Started, status=201, access=STAFF, tags=TAGS),
    Route("GET", W, h.get_state, "流程状态: 当前阶段、期限与各阶段历史", response=WorkflowView,
          access=STAFF, tags=TAGS),
    *SIGNAL_ROUTES,
    *UPDATE_ROUTES,
    # any other name: the handler's 404 names the signals and updates the workflow accepts
    Route("POST", f"{W}/signals/{{name}}", h.send_signal, "向流程发送信号 (按名称校验内容与阶段)",
          body=dict[str, Any], response=Accepted, status=202, access=STAFF, tags=TAGS,
          documented=False),
    Route("POST", f"{W}/updates/{{name}}", h.run_update, "对流程执行更新",
          body=dict[str, Any], response=UpdateDone, access=STAFF, tags=TAGS, documented=False),
    Route("POST", f"{W}/rating", h.rate,
          "居民本人评价完工项目的满意度 (1–5 分; 每人一次, 提交后不能修改; 评价人取自令牌)",
          body=RatingIn, response=RatingDone, status=202, access=RATERS, tags=TAGS),
    Route("POST", f"{W}/cancel", h.cancel, "取消流程 (召集组织或应用; 须说明原因, 记录操作人)",
          body=CancelIn,
          response=WorkflowView, access=STAFF, tags=TAGS),
]

ROUTES = [*WORKFLOW_ROUTES, *care.ROUTES, *centre_activity.ROUTES]
