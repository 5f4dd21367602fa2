"""IssueFollowUpWorkflow's activities: issues in the issues service, reached only through its
HTTP API with an app token (issues:manage)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from temporalio import activity

from linli.clients import ServiceClient
from linli.problems import Problem
from workflows.follow_up import types as t
from workflows.service_calls import call as _call
from workflows.service_calls import idempotency_key as _key


class IssuesActivities:
    """Issues in the issues service."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def all(self) -> list[Callable[..., Any]]:
        return [self.get_issue, self.escalate_issue, self.reopen_issue]

    @activity.defn(name=t.GET_ISSUE)
    async def get_issue(self, ref: t.IssueRef) -> t.IssueInfo:
        path = f"/v1/compounds/{ref.compound_id}/issues/{ref.issue_id}"
        issue = await _call(lambda: self.client.get(path))
        return msgspec.convert({k: issue.get(k) for k in ("status", "first_response_at", "resolved_at")},
                               t.IssueInfo)

    @activity.defn(name=t.ESCALATE_ISSUE)
    async def escalate_issue(self, req: t.Escalation) -> bool:
        """Escalate; an issue already escalated (409) counts as done."""
        path = f"/v1/compounds/{req.compound_id}/issues/{req.issue_id}/escalate"

        async def send() -> bool:
            try:
                await self.client.post(path, {"reason": req.reason})
            except Problem as exc:
                if exc.status == 409:
                    return False
                raise
            return True

        escalated: bool = await _call(send)
        return escalated

    @activity.defn(name=t.REOPEN_ISSUE)
    async def reopen_issue(self, ref: t.IssueRef) -> None:
        """The reporter is not satisfied: reopen (issues records reason "unsatisfied")."""
        path = f"/v1/compounds/{ref.compound_id}/issues/{ref.issue_id}/reopen"
        body = {"reason": "上报人对处理结果不满意 (回访)"}
        await _call(lambda: self.client.request("POST", path, json=body, headers=_key()))
