"""The living demo of the workflows: 阳光花园's top-floor renovation, drafted in meetings by the
party branch secretary and run by a ProposalWorkflow, in consultation from the first minute
(so the Temporal UI, the notice board and the workflow step metrics show a process under way).

Run by `linli up` through the `linli.demo.running` entry point, over the meetings and workflow
APIs as the demo's party branch secretary. The proposal is found by its title and the workflow
started with a fixed key, so running it again starts nothing new.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from linli.demo import DemoActor

COMPOUND = "阳光花园"
TITLE = "阳光花园顶楼隔热及平改坡改造"
KEY = "demo-renovation"
PROPOSAL = {
    "title": TITLE, "matter": "art278_7", "funding": "maintenance_fund", "budget_fen": 48_000_000,
    "body": "顶楼屋面加铺隔热层, 平屋面改为坡屋面; 使用专项维修资金。施工期间住户可临时借用邻里中心活动室。"}


async def _proposal(actor: DemoActor, c: str, branch: str) -> dict[str, Any]:
    for proposal in await actor.all_pages("meetings", f"{c}/proposals", branch):
        if proposal["title"] == TITLE:
            return proposal
    return dict(await actor.call("POST", "meetings", f"{c}/proposals", branch, json=PROPOSAL))


def workflow_input(compound_id: str, proposal_id: str, today: dt.date) -> dict[str, Any]:
    due = today + dt.timedelta(days=120)
    return {"compound_id": compound_id, "proposal_id": proposal_id, "convener": "阳光花园党支部",
            "milestones": [{"name": "屋面隔热层", "due_at": f"{due}T18:00:00+08:00", "owner": "物业"},
                           {"name": "平改坡", "due_at": f"{due}T18:00:00+08:00",
                            "owner": "施工单位"}]}


async def start_running(actor: DemoActor) -> list[str]:
    """The proposal (once) and its workflow (the same run on every call)."""
    compound_id = actor.compound_id(COMPOUND)
    c = f"/v1/compounds/{compound_id}"
    branch = actor.token(COMPOUND, "party_branch")
    proposal = await _proposal(actor, c, branch)
    started = await actor.call("POST", "workflows", "/v1/workflows", branch, json={
        "type": "proposal", "key": KEY,
        "input": workflow_input(compound_id, proposal["id"], dt.date.today())})
    return [f"{COMPOUND}: {TITLE} 由流程 {started['workflow_id']} 推进 (征求意见 14 天)"]
