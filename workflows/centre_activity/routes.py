"""The workflow API's route for centre activities: the state of one activity's timeline."""

from __future__ import annotations

from typing import Any

import msgspec
from temporalio.service import RPCError, RPCStatusCode

from linli import problems
from linli.auth import STAFF_ROLES, allow
from linli.http import Call, Route
from workflows.api.keys import TEMPORAL
from workflows.centre_activity.types import workflow_id


class ActivityWorkflowView(msgspec.Struct):
    workflow_id: str
    run_id: str | None
    status: str
    state: dict[str, Any]


async def activity_state(call: Call) -> ActivityWorkflowView:
    """An activity's timeline: the step it is in and the steps behind it."""
    compound_id = call.uuid_param("compound_id", "小区")
    handle = call.app[TEMPORAL].get_workflow_handle(
        workflow_id(str(call.uuid_param("activity_id", "活动"))))
    try:
        desc = await handle.describe()
        state: dict[str, Any] = await handle.query("state")
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise problems.not_found("活动的流程") from None
        raise
    if state.get("compound_id") != str(compound_id):
        raise problems.not_found("活动的流程")
    status = desc.status.name.lower() if desc.status is not None else "unknown"
    return ActivityWorkflowView(workflow_id=desc.id, run_id=desc.run_id, status=status,
                                state=state)


ROUTES = [
    Route("GET", "/v1/compounds/{compound_id}/activities/{activity_id}/workflow", activity_state,
          "邻里中心活动的流程状态 (当前阶段和已走过的阶段)", response=ActivityWorkflowView,
          access=allow(*sorted(STAFF_ROLES), scopes=["workflows:start"]),
          tags=("workflows", "centre")),
]
