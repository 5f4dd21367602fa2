"""Events to CarePlanWorkflow: a new care plan starts its workflow once, an ended plan
signals it (consumers in the worker, beside workflows/bridge.py)."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client

from linli.bus import Subscription, effect_subscription
from linli.events import CloudEvent
from services.volunteers import events as volunteers
from workflows.bridge import signal, start_once
from workflows.care.types import CarePlanInput, workflow_id
from workflows.care.workflow import CarePlanWorkflow


def on_plan_created(client: Client, task_queue: str) -> Any:
    """A new plan starts its workflow once (start_once: reused only after a failed run)."""

    async def handle(event: CloudEvent) -> None:
        data = volunteers.CARE_PLAN_CREATED.parse(event)
        await start_once(client, CarePlanWorkflow.run,
                         CarePlanInput(str(data.compound_id), str(data.plan_id)),
                         workflow_id=workflow_id(str(data.plan_id)), task_queue=task_queue,
                         event=event, compound_id=str(data.compound_id), kind="care_plan",
                         started_by="app:volunteers")

    return handle


def on_plan_ended(client: Client) -> Any:
    async def handle(event: CloudEvent) -> None:
        data = volunteers.CARE_PLAN_ENDED.parse(event)
        await signal(client, workflow_id(str(data.plan_id)), "plan_ended", "计划已结束")

    return handle


def subscriptions(client: Client, task_queue: str, *, prefix: str) -> list[Subscription]:
    return [
        effect_subscription(f"{prefix}-care-plan-created", volunteers.CARE_PLAN_CREATED,
                            on_plan_created(client, task_queue)),
        effect_subscription(f"{prefix}-care-plan-ended", volunteers.CARE_PLAN_ENDED,
                            on_plan_ended(client)),
    ]
