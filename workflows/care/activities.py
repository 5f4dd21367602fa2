"""CarePlanWorkflow's activities: the volunteers service's care API over HTTP."""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from linli.clients import ServiceClient
from linli.problems import Problem
from workflows.care.types import CLOSE_CARE_VISIT, NEXT_CARE_VISIT, CareRef, NextVisit


class CareActivities:
    """The volunteers service's care API, with an app token holding volunteers:manage."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def all(self) -> list[Any]:
        return [self.next_care_visit, self.close_care_visit]

    async def _send(self, method: str, path: str) -> Any:
        try:
            return await self.client.request(method, path)
        except Problem as exc:  # 409 "not due yet" (clock skew) is worth retrying, other 4xx not
            retry = exc.status >= 500 or exc.status in (408, 409, 429)
            raise ApplicationError(f"{exc.status} {exc.detail}", type=exc.kind,
                                   non_retryable=not retry) from None

    @activity.defn(name=NEXT_CARE_VISIT)
    async def next_care_visit(self, ref: CareRef) -> NextVisit:
        plan = await self._send("GET", f"/v1/compounds/{ref.compound_id}/care-plans/{ref.plan_id}")
        visit = plan.get("next_visit")
        if plan["status"] != "active" or not visit:
            return NextVisit(active=False)
        return NextVisit(active=True, visit_id=visit["id"], seq=visit["seq"],
                         due_at=visit["due_at"])

    @activity.defn(name=CLOSE_CARE_VISIT)
    async def close_care_visit(self, ref: CareRef) -> str:
        """Mark the visit missed unless it was recorded (or cancelled); its status after."""
        visit = await self._send("POST", f"/v1/compounds/{ref.compound_id}/care-plans/"
                                 f"{ref.plan_id}/visits/{ref.visit_id}/miss")
        return str(visit["status"])
