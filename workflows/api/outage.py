"""Temporal unavailable: every route of the workflow API answers 503 problem+json with
Retry-After and a zh-CN detail, never a 500 (issue 9).

The client connects lazily, so the API starts (and answers) while Temporal is still away;
a client that never reached it raises RuntimeError("Failed client connect ..."), one whose
server went away raises RPCError UNAVAILABLE (or DEADLINE_EXCEEDED when it stopped answering).
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from temporalio.service import RPCError, RPCStatusCode

from linli.http import REQUEST_ID, RETRY_AFTER_SECONDS
from linli.problems import Problem

log = logging.getLogger("linli.workflows.api")

# the server is away, overloaded or not answering: worth a retry later
_AWAY = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED,
                   RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.ABORTED})
DETAIL = "流程引擎 (Temporal) 暂时不可用, 请稍后重试; 带同一幂等键重试不会重复启动流程"


def unavailable(detail: str = DETAIL) -> Problem:
    return Problem(503, "temporal-unavailable", "流程引擎暂不可用", detail,
                   headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def is_outage(exc: BaseException) -> bool:
    """Temporal is away (refused, reset, gone), as opposed to a refusal of the request."""
    if isinstance(exc, RPCError):
        return exc.status in _AWAY
    return isinstance(exc, RuntimeError) and str(exc).startswith("Failed client connect")


@web.middleware
async def temporal_outage(request: web.Request, handler: Any) -> web.StreamResponse:
    """Inside problem_json: a Temporal outage becomes the 503 it renders."""
    try:
        return await handler(request)
    except (RPCError, RuntimeError) as exc:
        if not is_outage(exc):
            raise
        log.warning("temporal unavailable: %s", exc, extra={"request_id": request.get(REQUEST_ID)})
        raise unavailable() from None
