"""The workflow API's route for care plans: the state of one plan's timer."""

from __future__ import annotations

import msgspec
from temporalio.service import RPCError, RPCStatusCode

from linli import problems
from linli.auth import allow
from linli.http import Call, Route
from workflows.api.keys import TEMPORAL
from workflows.care.types import CareState, workflow_id
from workflows.care.workflow import CarePlanWorkflow


class CareWorkflowView(msgspec.Struct):
    workflow_id: str
    run_id: str | None
    status: str
    state: CareState


async def care_state(call: Call) -> CareWorkflowView:
    """The timer of one care plan: which visit it waits for, and visits closed this run."""
    compound_id = call.uuid_param("compound_id", "小区")
    handle = call.app[TEMPORAL].get_workflow_handle(
        workflow_id(str(call.uuid_param("plan_id", "关爱计划"))))
    try:
        desc = await handle.describe()
        state = await handle.query(CarePlanWorkflow.state)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise problems.not_found("关爱计划的流程") from None
        raise
    if state.compound_id != str(compound_id):
        raise problems.not_found("关爱计划的流程")
    status = desc.status.name.lower() if desc.status is not None else "unknown"
    return CareWorkflowView(workflow_id=desc.id, run_id=desc.run_id, status=status, state=state)


ROUTES = [
    Route("GET", "/v1/compounds/{compound_id}/care-plans/{plan_id}/workflow", care_state,
          "定期关爱计划的流程状态 (正在等待的探访、本轮已处理的探访)", response=CareWorkflowView,
          access=allow("community", "party_branch", scopes=["workflows:start"]),
          tags=("workflows", "care")),
]
