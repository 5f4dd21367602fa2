"""A workflow is started only on a subject of the caller's compound, as its owning service says
(meetings for proposals, issues for issues), so staff of one compound cannot occupy another's
workflow id; and a run that failed or was terminated never blocks a legitimate new one."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import TokenFactory, bearer
from tests.integration.test_meetings_support import new_compound, ok
from tests.workflows.test_api import Api, api, problem, proposal_input

__all__ = ["api"]  # fixture


async def _start(api: Api, headers: dict[str, str], kind: str, key: str,
                 data: dict[str, Any]) -> Any:
    return await api.http.post("/v1/workflows", headers=headers,
                               json={"type": kind, "key": key, "input": data})


async def test_staff_cannot_start_a_workflow_on_another_compounds_subject(
    api: Api, token: TokenFactory,
) -> None:
    other = (await new_compound(api.council.compound.directory, token, name="乙小区")).id
    theirs = bearer(token(roles=["party_branch"], compounds=[other]))
    proposal = await ok(await api.council.meetings.post(
        f"/v1/compounds/{other}/proposals", headers=theirs,
        json={"title": "乙小区加装电梯", "matter": "art278_7", "body": "一号楼加装电梯"}), 201)
    issue = await ok(await api.issues.post(f"/v1/compounds/{other}/issues", headers=bearer(token(
        roles=["resident"], compounds=[other])), json={
        "category": "repair", "title": "电梯坏了", "description": "一号楼电梯停运", "area": "lift"}),
        201)
    squat = await proposal_input(api)
    squat["proposal_id"] = proposal["id"]
    body = await problem(await _start(api, api.headers, "proposal", "squat", squat),
                         422, "validation-error")
    assert body["errors"][0]["field"] == "proposal_id"
    body = await problem(await _start(api, api.headers, "issue_follow_up", "squat", {
        "compound_id": api.compound, "issue_id": issue["id"]}), 422, "validation-error")
    assert body["errors"][0]["field"] == "issue_id"
    await problem(await _start(api, api.headers, "proposal", "squat",
                               {**squat, "compound_id": other}), 403, "forbidden")
    for missing in ("proposal_id", "issue_id"):  # made-up ids are not anyone's either
        kind = "proposal" if missing == "proposal_id" else "issue_follow_up"
        data = squat if kind == "proposal" else {"compound_id": api.compound}
        await problem(await _start(api, api.headers, kind, "k", {**data, missing: str(uuid.uuid4())}),
                      422, "validation-error")
    # the owner's staff start theirs: nothing was left behind to block them
    r = await _start(api, theirs, "proposal", "theirs", {**squat, "compound_id": other})
    assert r.status == 201, await r.text()
    await api.http.post(f"/v1/workflows/proposal-{proposal['id']}/cancel", headers=theirs,
                        json={"reason": "测试结束"})


async def test_a_terminated_run_does_not_block_a_new_one(api: Api) -> None:
    data = await proposal_input(api)
    first = await ok(await _start(api, api.headers, "proposal", "k-1", data), 201)
    wid = first["workflow_id"]
    await api.temporal.get_workflow_handle(wid).terminate("运维误操作")
    again = await _start(api, api.headers, "proposal", "k-2", data)
    assert again.status == 201, await again.text()
    second = await again.json()
    assert second["created"] is True and second["run_id"] != first["run_id"]
    await api.http.post(f"/v1/workflows/{wid}/cancel", headers=api.headers,
                        json={"reason": "测试结束"})
