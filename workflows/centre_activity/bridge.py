"""Events to ActivityWorkflow: a new activity starts its timeline once, a cancelled one signals
it (consumers in the worker, beside workflows/bridge.py)."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client

from linli.bus import Subscription, effect_subscription
from linli.events import CloudEvent
from services.centre import events as centre
from workflows.bridge import signal, start_once
from workflows.centre_activity.types import ActivityInput, workflow_id
from workflows.centre_activity.workflow import ActivityWorkflow


def on_activity_created(client: Client, task_queue: str) -> Any:
    """A new activity starts its timeline once (start_once: reused only after a failed run)."""

    async def handle(event: CloudEvent) -> None:
        data = centre.ACTIVITY_CREATED.parse(event)
        await start_once(client, ActivityWorkflow.run,
                         ActivityInput(str(data.compound_id), str(data.activity_id)),
                         workflow_id=workflow_id(str(data.activity_id)), task_queue=task_queue,
                         event=event, compound_id=str(data.compound_id), kind="activity",
                         started_by="app:centre")

    return handle


def on_activity_cancelled(client: Client) -> Any:
    async def handle(event: CloudEvent) -> None:
        data = centre.ACTIVITY_CANCELLED.parse(event)
        await signal(client, workflow_id(str(data.activity_id)), "activity_cancelled",
                     data.reason or "活动已取消")

    return handle


def subscriptions(client: Client, task_queue: str, *, prefix: str) -> list[Subscription]:
    return [
        effect_subscription(f"{prefix}-activity-created", centre.ACTIVITY_CREATED,
                            on_activity_created(client, task_queue)),
        effect_subscription(f"{prefix}-activity-cancelled", centre.ACTIVITY_CANCELLED,
                            on_activity_cancelled(client)),
    ]
