"""ActivityWorkflow's activities: the centre service's activity API over HTTP."""

from __future__ import annotations

from typing import Any

from temporalio import activity

from linli.clients import ServiceClient
from linli.problems import Problem
from workflows.centre_activity.types import (
    ACTIVITY_TIMELINE,
    CLOSE_ACTIVITY,
    REMIND_ACTIVITY,
    REQUEST_ACTIVITY_FEEDBACK,
    ActivityRef,
    Timeline,
)
from workflows.service_calls import failure


class CentreActivities:
    """The centre's activity API, with an app token holding centre:manage."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def all(self) -> list[Any]:
        return [self.activity_timeline, self.remind_activity, self.request_activity_feedback,
                self.close_activity]

    async def _send(self, method: str, ref: ActivityRef, tail: str = "") -> Any:
        path = f"/v1/compounds/{ref.compound_id}/activities/{ref.activity_id}{tail}"
        try:
            return await self.client.request(method, path)
        except Problem as exc:
            raise failure(exc) from None

    @activity.defn(name=ACTIVITY_TIMELINE)
    async def activity_timeline(self, ref: ActivityRef) -> Timeline:
        a = await self._send("GET", ref)
        return Timeline(status=a["status"], starts_at=a["starts_at"], ends_at=a["ends_at"],
                        signup_closes_at=a["signup_closes_at"])

    async def _step(self, ref: ActivityRef, name: str) -> str:
        answer = await self._send("POST", ref, f"/{name}")
        return "cancelled" if answer["status"] == "cancelled" else "done"

    @activity.defn(name=REMIND_ACTIVITY)
    async def remind_activity(self, ref: ActivityRef) -> str:
        return await self._step(ref, "remind")

    @activity.defn(name=REQUEST_ACTIVITY_FEEDBACK)
    async def request_activity_feedback(self, ref: ActivityRef) -> str:
        return await self._step(ref, "request-feedback")

    @activity.defn(name=CLOSE_ACTIVITY)
    async def close_activity(self, ref: ActivityRef) -> str:
        return await self._step(ref, "close")
