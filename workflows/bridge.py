"""Events to workflows: durable JetStream consumers in the worker turn events into signals.

The workflow id derives from the entity (proposal-<id>, issue-<id>), so no lookup table is
needed. Each consumer is an effect subscription (linli.bus.effect_subscription): the signal or
start runs holding no database connection, so a burst of events is signalled side by side, and
the inbox row (workflows schema) is written after it, so a redelivered event counts once. A
signal repeated after a crash between signalling and recording is harmless because the
workflows dedupe by opinion id and vote id, and a start uses the entity's id. A workflow that
does not exist (or has finished) is not an error: the event is simply not for a running process.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from linli.bus import Subscription, effect_subscription
from linli.events import CloudEvent
from services.issues import events as issues
from services.meetings import events as meetings
from workflows.follow_up import types as ft
from workflows.proposal import types as t

log = logging.getLogger("linli.workflows.bridge")
Handler = Callable[[CloudEvent], Awaitable[None]]  # an effect (linli.bus.effect_subscription)


async def signal(client: Client, workflow_id: str, name: str, payload: Any) -> bool:
    """Signal a workflow; False (and no error) when there is no running workflow with that id."""
    try:
        await client.get_workflow_handle(workflow_id).signal(name, payload)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            log.info("no running workflow %s for signal %s", workflow_id, name)
            return False
        raise
    return True


async def start_once(client: Client, workflow: Any, arg: Any, *, workflow_id: str,
                     task_queue: str, event: CloudEvent, compound_id: str, kind: str,
                     started_by: str) -> None:
    """Start the workflow an event asks for, once: its id derives from the entity and is reused
    only after a run that failed or was terminated, so a redelivered event (or a replica racing
    us) finds it started, or completed, and does nothing."""
    try:
        await client.start_workflow(
            workflow, arg, id=workflow_id, task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            memo={"key": f"event:{event.id}", "compound_id": compound_id, "type": kind,
                  "started_by": started_by})
    except WorkflowAlreadyStartedError:
        pass


def on_vote_closed(client: Client) -> Handler:
    async def handle(event: CloudEvent) -> None:
        data = meetings.VOTE_CLOSED.parse(event)
        await signal(client, f"proposal-{data.proposal_id}", "vote_closed", t.VoteClosed(
            vote_id=str(data.vote_id), outcome=data.outcome, version=data.version, rule=data.rule,
            result=data.result))

    return handle


def on_opinion_recorded(client: Client) -> Handler:
    async def handle(event: CloudEvent) -> None:
        data = meetings.OPINION_RECORDED.parse(event)
        await signal(client, f"proposal-{data.proposal_id}", "opinion_recorded", t.OpinionRecorded(
            opinion_id=str(data.opinion_id), stance=data.stance, version=data.version))

    return handle


def on_issue_resolved(client: Client) -> Handler:
    async def handle(event: CloudEvent) -> None:
        data = issues.ISSUE_RESOLVED.parse(event)
        await signal(client, f"issue-{data.issue_id}", "resolved",
                     ft.IssueResolved(reporter_id=data.reporter_id, event_id=event.id))

    return handle


def on_issue_accepted(client: Client, task_queue: str) -> Handler:
    """An accepted issue starts its follow-up (once: the id is the issue's, reused only after a
    run that failed or was terminated)."""

    async def handle(event: CloudEvent) -> None:
        data = issues.ISSUE_ACCEPTED.parse(event)
        follow_up = ft.IssueFollowUpInput(
            compound_id=str(data.compound_id), issue_id=str(data.issue_id), category=data.category,
            respond_by=data.respond_by.isoformat() if data.respond_by else None,
            resolve_by=data.resolve_by.isoformat() if data.resolve_by else None)
        await start_once(client, "IssueFollowUpWorkflow", follow_up,
                         workflow_id=f"issue-{data.issue_id}", task_queue=task_queue, event=event,
                         compound_id=str(data.compound_id), kind="issue_follow_up",
                         started_by="app:issues")

    return handle


def subscriptions(client: Client, task_queue: str, *, prefix: str = "workflows",
                  start_follow_ups: bool = True) -> list[Subscription]:
    """The bridge's durable consumers; replicas of the worker share them and split the work."""
    subs = [
        effect_subscription(f"{prefix}-vote-closed", meetings.VOTE_CLOSED, on_vote_closed(client)),
        effect_subscription(f"{prefix}-opinion-recorded", meetings.OPINION_RECORDED,
                            on_opinion_recorded(client)),
        effect_subscription(f"{prefix}-issue-resolved", issues.ISSUE_RESOLVED,
                            on_issue_resolved(client)),
    ]
    if start_follow_ups:
        subs.append(effect_subscription(f"{prefix}-issue-accepted", issues.ISSUE_ACCEPTED,
                                        on_issue_accepted(client, task_queue)))
    return subs
