"""My bills: my share of each shared cost, and how it was reached, from the bill's own basis
(the meetings service recomputes it from what the bill was split on): my area and reading
against everyone's, each part of the plan with its weight, my exact share and exact amount,
and the fen it was rounded to."""

from __future__ import annotations

import asyncio
from fractions import Fraction
from typing import Any

from aiohttp import web

from services.portal.handlers import compound_of
from services.portal.models import Membership
from services.portal.web import Api, api, render

METHODS = {"equal": "按户平均分摊", "area": "按专有部分面积分摊", "usage": "按计量用量分摊 (谁受益谁承担)",
           "floor_band": "按楼层段分摊", "weighted": "多种方式加权分摊"}
SHORT = {"equal": "按户平均", "area": "按面积", "usage": "按用量", "floor_band": "按楼层段",
         "weighted": "组合方式"}


def area(centi: int) -> str:
    return f"{centi / 100:.2f} m²"


def yuan_exact(fen: Fraction) -> str:
    """An exact amount in yuan: to the fen when it is whole fen, else 4 places and "…"."""
    if fen.denominator == 1:
        return f"{fen.numerator / 100:,.2f} 元"
    return f"{float(fen / 100):,.4f}… 元"


def about(share: str) -> str:
    """An exact share with its rounded percentage for reading: "8615/30559 (约 28.19%)"."""
    value = Fraction(share)
    return share if value.denominator == 1 else f"{share} (约 {float(value) * 100:.2f}%)"


def _part_step(part: dict[str, Any], basis: dict[str, Any], line: dict[str, Any],
               unit: str) -> str:
    name, share = part["method"], part["share"]
    if share is None:
        return f"{SHORT.get(name, name)} (权重 0, 不参与本次分摊)"
    share = about(share)
    if name == "area":
        return f"按面积: 本户 {area(line['area_centi'])} ÷ 受益房屋共 {area(basis['area_centi'])} = {share}"
    if name == "usage":
        mine = f"{line['usage']} {unit}" if line["usage"] is not None else "本期无读数, 按 0 计"
        return f"按用量: 本户 {mine} ÷ 共 {basis['usage'] or 0} {unit} = {share}"
    if name == "equal":
        return f"按户平均: 1 ÷ {basis['units']} 户 = {share}"
    if name == "floor_band":
        return (f"按楼层段: 本户在 {line['floor']} 层, 楼层段权重 {part['band_weight']},"
                f" 占各户权重之和的 {share}")
    return f"{SHORT.get(name, name)}: {share}"


def explain(bill: dict[str, Any], line: dict[str, Any], unit: str) -> list[str]:
    """The steps from the unit's figures to the fen it pays, in words."""
    basis, mine = bill.get("basis"), line.get("basis")
    if not basis or not mine:
        return []
    parts = mine["parts"]
    steps = [_part_step(p, basis, mine, unit) for p in parts]
    if len(parts) > 1:
        terms = " + ".join(f"{p['weight']} × {p['share']}" for p in parts if p["share"] is not None)
        steps.append(f"本户份额 = {terms} = {about(mine['share'])}")
    exact = Fraction(mine["exact_fen"])
    steps.append(f"总额 {bill['total_fen'] / 100:,.2f} 元 × {mine['share']} = {yuan_exact(exact)}")
    if exact.denominator != 1:
        steps.append(f"取整到分 (最大余数法, 各户合计与总额分毫不差): {line['amount_fen'] / 100:,.2f} 元")
    return steps


def plan_text(method: dict[str, Any]) -> str:
    if method.get("method") == "weighted":
        parts = "、".join(f"{SHORT.get(p['method'], p['method'])} (权重 {p['weight']})"
                         for p in method.get("parts", []))
        return f"{METHODS['weighted']}: {parts}"
    return METHODS.get(method.get("method", ""), method.get("method", ""))


async def bills(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    cid = str(c.compound_id)
    client = api(request, "meetings", cid)
    mine = {str(u.id) for u in c.units}
    costs = [k for k in await client.get_all(f"/v1/compounds/{cid}/costs")
             if any(str(u["unit_id"]) in mine for u in k["units"])]
    found = await asyncio.gather(*(_my_lines(client, cid, k, c) for k in costs))
    return render(request, "bills.html", {"compound": c, "costs": found})


async def _my_lines(client: Api, cid: str, cost: dict[str, Any], c: Membership) -> dict[str, Any]:
    bills = await client.get_all(f"/v1/compounds/{cid}/costs/{cost['id']}/bills")
    mine = {str(u.id): u.label for u in c.units}
    rows = []
    for bill in bills:
        for line in bill["lines"]:
            if str(line["unit_id"]) in mine:
                basis = bill.get("basis") or {}
                rows.append({"period": bill["period"], "amount": line["amount_fen"],
                             "unit": mine[str(line["unit_id"])], "plan": bill.get("plan_name", ""),
                             "method": plan_text(basis.get("method", {})),
                             "steps": explain(bill, line, cost.get("usage_unit") or "")})
    return {"cost": cost, "rows": rows}
