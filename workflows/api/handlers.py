"""HTTP views of the workflow API: start, state, signal, update, cancel. No Temporal details leak.

A workflow's id derives from its entity (proposal-<id>, issue-<id>), so events and apps find it
without a lookup table; the start key in the memo makes a repeated start return the same run.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from temporalio.client import (
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from linli import problems
from linli.auth import ROLES
from linli.http import RETRY_AFTER_SECONDS, SETTINGS, Call, json_response
from linli.problems import Problem
from workflows.api import validation as v
from workflows.api.keys import DIRECTORY, OWNERS, TEMPORAL
from workflows.api.models import (
    Accepted,
    RatingDone,
    RatingIn,
    Started,
    StartIn,
    UpdateDone,
    WorkflowView,
)
from workflows.api.outage import is_outage
from workflows.committee import types as ct
from workflows.follow_up import types as ft
from workflows.proposal import types as t


@dataclass(frozen=True)
class Kind:
    """One startable workflow type: how to read its input and what it accepts afterwards."""

    name: str
    workflow: str
    prefix: str
    parse: Callable[[Any], Any]
    entity: Callable[[Any], str]
    signals: dict[str, tuple[type, tuple[str, ...]]]  # name → payload, steps that accept it
    updates: dict[str, type]
    # updates (and "cancel") only the convener's organisation (state["convener_org"]) may send
    convener_only: frozenset[str] = frozenset()
    # signals that report another service's facts (normally through the bridge): apps only, so
    # no person can tell a proposal its statutory vote passed, or an issue it was resolved
    apps_only: frozenset[str] = frozenset()
    # the service owning the subject, where it is read (404 unless it is the compound's)
    owner: str = "meetings"
    subject_path: Callable[[Any], str] = lambda d: ""
    subject_field: str = ""
    subject_name: str = ""
    # a run that ended (completed, cancelled) gives its id to a new start with another key:
    # a compound whose founding ended may found again, one founding at a time
    new_run_after_close: bool = False


KINDS = {
    "proposal": Kind(
        "proposal", "ProposalWorkflow", "proposal", v.proposal_input, lambda d: d.proposal_id,
        signals={
            "opinion_recorded": (t.OpinionRecorded, (t.CONSULTATION, t.VOTE)),
            "vote_closed": (t.VoteClosed, (t.VOTE,)),
            "milestone_progress": (t.MilestoneProgress, (t.IMPLEMENTATION,)),
            "rating": (t.Rating, (t.SATISFACTION,)),
        },
        updates={"revise": t.Revision, "decide": t.Decision, "accept": t.AcceptanceReport,
                 "schedule_review": t.ReviewMeeting, "end_consultation": t.ConsultationEnd,
                 "extend_consultation": t.ConsultationExtension, "close_vote": t.VoteCloseEarly,
                 "unblock": t.Unblock},
        convener_only=frozenset({"decide", "cancel", "end_consultation", "extend_consultation",
                                 "close_vote", "unblock"}),
        apps_only=frozenset({"vote_closed", "opinion_recorded"}),
        owner="meetings", subject_path=lambda d: f"/v1/compounds/{d.compound_id}/proposals/"
                                                 f"{d.proposal_id}",
        subject_field="proposal_id", subject_name="议案"),
    "issue_follow_up": Kind(
        "issue_follow_up", "IssueFollowUpWorkflow", "issue", v.follow_up_input, lambda d: d.issue_id,
        signals={
            "resolved": (ft.IssueResolved, ("watching", "escalated", "reopened")),
            "satisfaction": (ft.SatisfactionAnswer, ("satisfaction",)),
        },
        updates={}, apps_only=frozenset({"resolved"}),
        owner="issues", subject_path=lambda d: f"/v1/compounds/{d.compound_id}/issues/{d.issue_id}",
        subject_field="issue_id", subject_name="问题"),
    "committee": Kind(
        "committee", "CommitteeFoundingWorkflow", "committee", v.committee_input,
        lambda d: d.compound_id,
        signals={"election_closed": (ct.ElectionClosed, (ct.ELECTION, ct.MEMBER_CHANGE)),
                 "adoption_closed": (ct.AdoptionClosed, (
                     ct.MEETING_NOTICE, ct.ELECTION, ct.ELECTION_FAILED, ct.ADOPTION_FAILED,
                     ct.ADOPTION_VOTE, ct.OFFICERS, ct.REGISTRATION, ct.MEMBER_CHANGE))},
        updates={"confirm": ct.Confirmation, "form_group": ct.PreparatoryGroup,
                 "nominate": ct.Candidates, "schedule_meeting": ct.Meeting,
                 "decide_next": ct.NextStep, "choose_officers": ct.Officers,
                 "resubmit": ct.Resubmission, "vacate": ct.Vacancy,
                 "propose_removal": ct.Removal, "schedule_by_election": ct.ByElection,
                 "register": ct.Registration},
        # the street office confirms, decides after a failed election, takes the filing
        # and records a member's resignation or lost eligibility
        convener_only=frozenset({"confirm", "decide_next", "register", "cancel", "vacate"}),
        apps_only=frozenset({"election_closed", "adoption_closed"}),
        owner="directory", subject_path=lambda d: f"/v1/compounds/{d.compound_id}",
        subject_field="compound_id", subject_name="小区", new_run_after_close=True),
}
# clients of the services owning workflow subjects (set by the API's cleanup contexts)
BY_WORKFLOW = {k.workflow: k for k in KINDS.values()}
ACTIONS = {"cancel": "取消流程", "decide": "决定修订或放弃",
           "end_consultation": "提前结束征求意见", "extend_consultation": "延长征求意见",
           "close_vote": "提前结束表决", "unblock": "处理受阻的流程 (重试或放弃)",
           "confirm": "确认成立条件", "decide_next": "决定补选或成立物业管理委员会",
           "register": "办理备案", "vacate": "登记委员辞职或丧失资格"}


async def start(call: Call) -> web.Response:
    """Start a workflow for an entity; the same key again returns the same run (200)."""
    body: StartIn = call.body
    kind = KINDS[body.type]
    data = kind.parse(body.input)
    call.require_compound(data.compound_id)
    await _require_subject(call, kind, data)
    workflow_id, nonce = f"{kind.prefix}-{kind.entity(data)}", uuid.uuid4().hex
    client = call.app[TEMPORAL]
    # a run that failed, was terminated or timed out gives its id back; a completed one
    # (cancelled ones complete too) keeps it, so the same key still finds that run
    reuse = WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
    if kind.new_run_after_close:
        closed = await _closed_run(client, workflow_id)
        if closed is not None and (await closed.memo()).get("key") == body.key:
            return _started(closed, kind, created=False)
        if closed is not None:
            reuse = WorkflowIDReusePolicy.ALLOW_DUPLICATE
    try:
        handle: WorkflowHandle[Any, Any] = await client.start_workflow(
            kind.workflow, data, id=workflow_id, task_queue=call.app[SETTINGS].temporal_task_queue,
            id_reuse_policy=reuse, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            memo={"key": body.key, "nonce": nonce, "compound_id": data.compound_id,
                  "type": kind.name, "started_by": call.who.subject})
    except WorkflowAlreadyStartedError:  # finished already: the id is not reused
        handle = client.get_workflow_handle(workflow_id)
    desc = await handle.describe()
    memo = await desc.memo()
    if memo.get("key") != body.key:
        running = "正在进行中, " if desc.status == WorkflowExecutionStatus.RUNNING else ""
        raise problems.conflict(f"{workflow_id} {running}已由另一个请求启动 (幂等键不同); "
                                f"同一{kind.subject_name or '对象'}同时只能有一个流程", "workflow-exists")
    return _started(desc, kind, created=memo.get("nonce") == nonce)


async def _closed_run(client: Any, workflow_id: str) -> WorkflowExecutionDescription | None:
    """The id's latest run when it has ended, else None (running, or never started)."""
    try:
        desc = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return None if desc.status == WorkflowExecutionStatus.RUNNING else desc


def _started(desc: WorkflowExecutionDescription, kind: Kind, *, created: bool) -> web.Response:
    started = Started(workflow_id=desc.id, run_id=desc.run_id, type=kind.name,
                      status=_status(desc), created=created)
    return json_response(started, 201 if created else 200)


async def get_state(call: Call) -> WorkflowView:
    """The workflow's current step, deadlines and history of steps."""
    handle, desc, kind = await _find(call)
    return WorkflowView(workflow_id=desc.id, run_id=desc.run_id, type=kind.name,
                        status=_status(desc), state=await _state(handle))


def named(handler: Callable[[Call, str], Awaitable[Any]], name: str) -> Callable[[Call], Awaitable[Any]]:
    """The handler of one signal or update by name (its own route, its own operationId)."""
    async def view(call: Call) -> Any:
        return await handler(call, name)
    view.__name__ = f"{handler.__name__}_{name}"
    return view


async def send_signal(call: Call, name: str = "") -> web.Response:
    """Deliver a signal after checking its body and that the current step accepts it."""
    handle, desc, kind = await _find(call)
    name = name or call.param("name")
    if name not in kind.signals:
        raise Problem(404, "unknown-signal", "未知信号",
                      f"{kind.name} 不接受信号 {name}; 可用: {', '.join(kind.signals)}")
    if name in kind.apps_only and not call.who.is_app:
        raise problems.forbidden(f"信号 {name} 来自其他服务的事件, 只有应用可以发送")
    payload_type, steps = kind.signals[name]
    payload: Any = v.convert(call.body, payload_type)
    _require_running(desc)
    state = await _state(handle)
    if state["step"] not in steps:
        raise problems.conflict(f"当前阶段 {state['step']} 不接受信号 {name}", "signal-not-allowed")
    if isinstance(payload, t.MilestoneProgress):
        _check_milestone(state, payload)
    if isinstance(payload, t.Rating):
        return json_response(await _rate(call, handle, desc, state, payload), 202)
    await handle.signal(name, payload)
    return json_response(Accepted(workflow_id=desc.id, signal=name, step=state["step"]), 202)


async def rate(call: Call) -> web.Response:
    """A resident rates the finished works in their own name (the token's person)."""
    handle, desc, kind = await _find(call)
    if kind.name != "proposal":
        raise problems.not_found(f"议案流程 {desc.id}")
    _require_running(desc)
    body: RatingIn = call.body
    rating = t.Rating(person_id="", score=body.score, comment=body.comment)
    return json_response(await _rate(call, handle, desc, await _state(handle), rating), 202)


async def _rate(call: Call, handle: WorkflowHandle[Any, Any], desc: WorkflowExecutionDescription,
                state: dict[str, Any], rating: t.Rating) -> RatingDone:
    """The rule: one rating per person, in their own name, while satisfaction is open; a
    rating once given is not changed (409 names it)."""
    if call.who.is_app:
        raise problems.forbidden("满意度评价由居民本人提交, 应用不能代评")
    if state["step"] != t.SATISFACTION:
        raise problems.conflict(f"当前阶段 {state['step']} 不接受满意度评价", "signal-not-allowed")
    if not 1 <= rating.score <= 5:
        raise v.invalid("score 必须在 1 到 5 之间", "score")
    rating.person_id = call.who.subject  # whoever the body names, the rater is the caller
    if rating.person_id in state.get("rated", []):
        raise problems.conflict("您已经评价过这项工程; 每人评价一次, 提交后不能修改", "already-rated")
    await handle.signal("rating", rating)
    return RatingDone(workflow_id=desc.id, person_id=rating.person_id, score=rating.score)


async def run_update(call: Call, name: str = "") -> UpdateDone:
    """Run an update; the workflow's validator decides whether it is legal now (else 409)."""
    handle, desc, kind = await _find(call)
    name = name or call.param("name")
    if name not in kind.updates:
        raise Problem(404, "unknown-update", "未知更新",
                      f"{kind.name} 不接受更新 {name}; 可用: {', '.join(kind.updates) or '无'}")
    await _require_convener(call, handle, desc, kind, name)
    payload: Any = v.convert(call.body, kind.updates[name])
    if isinstance(payload, ct.PreparatoryGroup):
        await v.group_members(call.app[DIRECTORY], (await desc.memo())["compound_id"], payload)
    if isinstance(payload, t.ReviewMeeting):
        v.instant(payload.starts_at, "starts_at")  # 422 unless an ISO instant with its offset
    parts: list[Any] = [payload, getattr(payload, "revision", None)]
    for part in parts:
        if (isinstance(part, t.Revision) and part.window == "extend"
                and not 0 < part.extend_seconds <= v.MAX_WINDOW_SECONDS):
            # the workflow adds it to a deadline: 1e12 s would break its clock, not this request
            raise v.invalid("extend_seconds 必须大于 0 且不超过十年", "extend_seconds")
        if hasattr(part, "by"):
            part.by = call.who.subject  # who did it is the caller, not what the body claims
    result = await _update(handle, desc, name, payload)
    return UpdateDone(workflow_id=desc.id, update=name, result=result)


async def cancel(call: Call) -> WorkflowView:
    """Cancel at any step with a reason (recorded in the history and the final event)."""
    handle, desc, kind = await _find(call)
    await _require_convener(call, handle, desc, kind, "cancel")
    await _update(handle, desc, "cancel", t.CancelRequest(call.body.reason, by=call.who.subject))
    return WorkflowView(workflow_id=desc.id, run_id=desc.run_id, type=kind.name,
                        status=_status(desc), state=await _state(handle))


# ---------------------------------------------------------------- helpers


async def _require_subject(call: Call, kind: Kind, data: Any) -> None:
    """The proposal or issue must be the compound's, as the service owning it says: the
    workflow id derives from the subject's id, so a run on another compound's subject would
    occupy that compound's workflow for good."""
    missing = v.invalid(f"该小区没有这个{kind.subject_name} ({kind.subject_field})",
                        kind.subject_field)
    await call.app[OWNERS[kind.owner]].get_or(kind.subject_path(data), missing)


async def _find(call: Call) -> tuple[WorkflowHandle[Any, Any], WorkflowExecutionDescription, Kind]:
    workflow_id = call.param("workflow_id")
    handle = call.app[TEMPORAL].get_workflow_handle(workflow_id)
    try:
        desc = await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise problems.not_found(f"流程 {workflow_id}") from None
        raise
    kind = BY_WORKFLOW.get(desc.workflow_type)
    compound_id = (await desc.memo()).get("compound_id")
    # a run not started by this API or the bridge (no compound in its memo) is no compound's:
    # not found, like a run of a type it does not serve, whoever may act in every compound
    if kind is None or not isinstance(compound_id, str) or not compound_id:
        raise problems.not_found(f"流程 {workflow_id}")
    call.require_compound(compound_id)
    return handle, desc, kind


async def _require_convener(call: Call, handle: WorkflowHandle[Any, Any],
                            desc: WorkflowExecutionDescription, kind: Kind, action: str) -> None:
    """Cancel and decide come from the convener: a person in the convener's organisation (in
    this compound, checked by _find), or an app holding workflows:start."""
    if action not in kind.convener_only or call.who.is_app:
        return
    _require_running(desc)  # a finished run is a 409 for everyone, and has no worker to ask
    org = (await _state(handle)).get("convener_org") or "party_branch"
    if not call.who.has_role(org):
        label = ROLES.get(org, org)
        raise problems.forbidden(f"只有召集组织 ({label}) 可以{ACTIONS.get(action, action)}")


async def _state(handle: WorkflowHandle[Any, Any]) -> dict[str, Any]:
    try:
        state: dict[str, Any] = await handle.query("state")
    except RPCError as exc:
        if is_outage(exc):
            raise
        raise Problem(503, "worker-unavailable", "流程引擎暂不可用", "查询流程状态失败: 流程的执行者"
                      " (worker) 暂时没有应答, 请稍后重试",
                      headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from None
    return state


async def _update(handle: WorkflowHandle[Any, Any], desc: WorkflowExecutionDescription, name: str,
                  payload: Any) -> Any:
    _require_running(desc)
    try:
        return await handle.execute_update(name, payload)
    except WorkflowUpdateFailedError as exc:
        raise problems.conflict(str(exc.cause.message if hasattr(exc.cause, "message") else exc.cause),
                                "update-rejected") from None


def _require_running(desc: WorkflowExecutionDescription) -> None:
    if desc.status != WorkflowExecutionStatus.RUNNING:
        raise problems.conflict(f"流程已结束 ({_status(desc)})", "workflow-closed")


def _check_milestone(state: dict[str, Any], progress: t.MilestoneProgress) -> None:
    names = {m["name"]: m for m in state.get("milestones", [])}
    if progress.milestone not in names:
        raise v.invalid(f"没有名为 {progress.milestone} 的实施节点", "milestone")
    if names[progress.milestone].get("done_at"):
        raise problems.conflict(f"实施节点 {progress.milestone} 已完成", "signal-not-allowed")
    if not 0 <= progress.percent <= 100:
        raise v.invalid("percent 必须在 0 到 100 之间", "percent")


def _status(desc: WorkflowExecutionDescription) -> str:
    return desc.status.name.lower() if desc.status is not None else "unknown"
