"""The workflow HTTP API (port 8106): other apps start, query, signal, update and cancel workflows.

Built with the kernel's service_app, so it has /livez /readyz /metrics /openapi.json,
problem+json and bearer auth like every Linli service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from temporalio.client import Client

from linli.app import service_app
from linli.auth import STAFF_ROLES, allow
from linli.clients import service_client
from linli.config import Settings
from linli.http import SETTINGS, Route
from workflows import care, centre_activity
from workflows import handlers as h
from workflows.models import Accepted, CancelIn, Started, StartIn, UpdateDone, WorkflowView

# Staff of 1+3+N run the processes; apps (e.g. the issues service, a council app) use the scope.
STAFF = allow(*sorted(STAFF_ROLES), scopes=["workflows:start"])
W = "/v1/workflows/{workflow_id}"
TAGS = ("workflows",)

ROUTES = [
    Route("POST", "/v1/workflows", h.start, "启动流程 (同一幂等键重复启动返回同一运行)", body=StartIn,
          response=Started, status=201, access=STAFF, tags=TAGS),
    Route("GET", W, h.get_state, "流程状态: 当前阶段、期限与各阶段历史", response=WorkflowView,
          access=STAFF, tags=TAGS),
    Route("POST", f"{W}/signals/{{name}}", h.send_signal, "向流程发送信号 (按名称校验内容与阶段)",
          body=dict[str, Any], response=Accepted, status=202, access=STAFF, tags=TAGS),
    Route("POST", f"{W}/updates/{{name}}", h.run_update,
          "对流程执行更新 (修订、决定、验收; 表决未通过后的决定只限召集组织)",
          body=dict[str, Any], response=UpdateDone, access=STAFF, tags=TAGS),
    Route("POST", f"{W}/cancel", h.cancel, "取消流程 (召集组织或应用; 须说明原因, 记录操作人)",
          body=CancelIn,
          response=WorkflowView, access=STAFF, tags=TAGS),
]


async def temporal_client(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    app[h.TEMPORAL] = await Client.connect(settings.temporal_address,
                                           namespace=settings.temporal_namespace)
    yield


def create_app(settings: Settings) -> web.Application:
    owners = [service_client(h.OWNERS[name], caller="workflows", target=name,
                             scopes=[f"{name}:read"]) for name in sorted(h.OWNERS)]
    return service_app(name="workflows", settings=settings,
                       routes=[*ROUTES, *care.ROUTES, *centre_activity.ROUTES],
                       migrations=None,
                       contexts=[temporal_client, *owners])
