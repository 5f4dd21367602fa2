"""The living demo of meetings: 南山归侨安置小区's booster pump electricity, shared by the flats
it serves (floors 4 to 6), the month's readings, two plans, the one the party branch adopted and
the month's bill on the notice board.

Run by `linli up` through the `linli.demo.running` entry point, over meetings' own API as the
property manager and the party branch secretary of the demo; each step looks for what an
earlier run made, so running it again adds nothing.
"""

from __future__ import annotations

from typing import Any

from linli.demo import DemoActor

COMPOUND = "南山归侨安置小区"
COST = "二次供水加压泵电费"
ADOPTED = "面积用量各半"
PLANS = {"按用水量": {"method": "usage"},
         ADOPTED: {"method": "weighted", "parts": [{"method": "area", "weight": "1/2"},
                                                   {"method": "usage", "weight": "1/2"}]}}
PERIOD = "2026-10"  # the month billed (docs/examples/costs.sh reads the next one)
BILL_FEN = 38_640  # 386.40 元 of electricity in that month


def usage(building: int, floor: int, number: int) -> int:
    """The month's water through the pump for one flat, in m³ (reproducible, 0 for one empty)."""
    return 0 if (building, floor, number) == (1, 5, 1) else 6 + (building * 5 + floor * 3 + number * 7) % 17


def readings_csv(period: str) -> str:
    return "building,number,period,usage\n" + "".join(
        f"{b}号楼,{floor}0{n},{period},{usage(b, floor, n)}\n"
        for b in (1, 2) for floor in (4, 5, 6) for n in (1, 2))


async def _cost(actor: DemoActor, c: str, property_token: str) -> dict[str, Any]:
    for cost in await actor.all_pages("meetings", f"{c}/costs", property_token):
        if cost["name"] == COST:
            return dict(cost)
    buildings = await actor.all_pages("directory", f"{c}/buildings", property_token)
    served = [{"building_id": b["id"], "floors": [4, 5, 6]} for b in buildings
              if b["name"] in ("1号楼", "2号楼")]
    return dict(await actor.call("POST", "meetings", f"{c}/costs", property_token, json={
        "name": COST, "usage_unit": "m³", "description": "谁受益谁承担: 加压泵只为四层及以上供水",
        "beneficiaries": {"floors": served}}))


async def _plans(actor: DemoActor, k: str, property_token: str) -> dict[str, dict[str, Any]]:
    plans = {p["name"]: p for p in await actor.all_pages("meetings", f"{k}/plans", property_token)}
    for name, method in PLANS.items():
        if name not in plans:
            plans[name] = await actor.call("POST", "meetings", f"{k}/plans", property_token,
                                           json={"name": name, "method": method})
    return plans


async def start_running(actor: DemoActor) -> list[str]:
    """The pump's cost, readings, plans, the adopted plan and one month's bill (each once)."""
    c = f"/v1/compounds/{actor.compound_id(COMPOUND)}"
    property_token = actor.token(COMPOUND, "property")
    branch = actor.token(COMPOUND, "party_branch")
    cost = await _cost(actor, c, property_token)
    k = f"{c}/costs/{cost['id']}"
    if not (await actor.call("GET", "meetings", f"{k}/readings?period={PERIOD}&limit=1",
                             property_token))["items"]:
        await actor.call("POST", "meetings", f"{k}/readings/import", property_token,
                         csv=readings_csv(PERIOD))
    plan = (await _plans(actor, k, property_token))[ADOPTED]
    if plan["status"] != "adopted":
        await actor.call("POST", "meetings", f"{k}/plans/{plan['id']}/adopt", branch)
    if await actor.call("GET", "meetings", f"{k}/bills/{PERIOD}", property_token,
                        missing_ok=True) is None:
        await actor.call("POST", "meetings", f"{k}/bills", property_token,
                         json={"period": PERIOD, "total_fen": BILL_FEN})
    return [f"{COMPOUND}: {COST} {PERIOD} 账单已按“{ADOPTED}”出具 ({len(cost['units'])} 户分摊)"]
