"""IssueFollowUpWorkflow with the real activities against the real issues service.

Time-skipping server for the target times; the tests act as the reporter and the property
company over HTTP and signal `resolved` as the bridge would.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import aiohttp
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from linli import db
from linli.clients import ServiceClient, app_token
from linli.config import Settings
from services.directory.app import create_app as directory_app
from services.issues.app import create_app as issues_app
from tests.conftest import AppFactory, TokenFactory, bearer, eventually
from tests.integration.test_meetings_support import new_compound, ok
from workflows.follow_up import types as t
from workflows.follow_up.activities import IssuesActivities
from workflows.follow_up.workflow import IssueFollowUpWorkflow
from workflows.outbox import OutboxActivities

DAY = 86400.0


async def test_overdue_escalates_and_unsatisfied_reopens_in_issues(
        time_env: WorkflowEnvironment, pool: db.Pool, settings: Settings, serve: AppFactory,
        token: TokenFactory) -> None:
    directory = await serve(directory_app, port=settings.port("directory"))
    issues = await serve(issues_app, port=settings.port("issues"))
    compound = await new_compound(directory, token)
    base = f"/v1/compounds/{compound.id}"
    reporter_id = str(uuid.uuid4())
    reporter = bearer(token(roles=["resident"], compounds=[compound.id], person=reporter_id))
    company = bearer(token(roles=["property"], compounds=[compound.id]))
    issue = await ok(await issues.post(f"{base}/issues", headers=reporter, json={
        "category": "repair", "title": "6楼楼道灯坏了", "description": "一周了, 晚上很危险",
        "area": "corridor"}), 201)
    iid = issue["id"]

    async def status(to: str) -> dict[str, Any]:
        return dict(await ok(await issues.post(f"{base}/issues/{iid}/status", headers=company,
                                               json={"to": to})))

    await status("accepted")
    now = await time_env.get_current_time()
    data = t.IssueFollowUpInput(compound_id=compound.id, issue_id=iid, category="repair",
                                respond_by=(now + timedelta(days=1)).isoformat(),
                                resolve_by=(now + timedelta(days=3)).isoformat())
    queue = f"test-{uuid.uuid4()}"
    async with aiohttp.ClientSession() as session:
        client = ServiceClient(session, base_url=settings.service_url("issues"),
                               token=app_token(settings, "workflows", ["issues:manage"]))
        async with Worker(time_env.client, task_queue=queue, workflows=[IssueFollowUpWorkflow],
                          activities=[*IssuesActivities(client).all(), *OutboxActivities(pool).all()]):
            handle = await time_env.client.start_workflow(
                IssueFollowUpWorkflow.run, data, id=f"issue-{iid}", task_queue=queue)
            await time_env.sleep(4 * DAY)  # answered in time, but not resolved by resolve_by

            async def at(step: str) -> t.FollowUpState:
                async def there() -> t.FollowUpState | None:
                    state = await handle.query(IssueFollowUpWorkflow.state)
                    return state if state.step == step else None

                result: t.FollowUpState = await eventually(there, within=60)
                return result

            state = await at("escalated")
            assert state.history[0].outcome == "overdue:resolve_by"
            escalated = await ok(await issues.get(f"{base}/issues/{iid}", headers=company), 200)
            assert escalated["escalated_at"] is not None
            await status("resolved")
            await handle.signal(IssueFollowUpWorkflow.resolved_signal, t.IssueResolved(reporter_id))
            await at("satisfaction")
            await handle.signal(IssueFollowUpWorkflow.satisfaction,
                                t.SatisfactionAnswer(False, "还是不亮"))
            await at("reopened")
            reopened = await ok(await issues.get(f"{base}/issues/{iid}", headers=company), 200)
            assert reopened["status"] == "in_progress"
            await status("resolved")
            await handle.signal(IssueFollowUpWorkflow.resolved_signal, t.IssueResolved(reporter_id))
            await at("satisfaction")
            await handle.signal(IssueFollowUpWorkflow.satisfaction, t.SatisfactionAnswer(True))
            final = await handle.result()
    assert [h.step for h in final.history] == ["watching", "escalated", "satisfaction", "reopened",
                                               "satisfaction", "completed"]
    assert final.history[-2].outcome == "satisfied" and final.reopened == 1
