"""Story §1: 南山归侨安置小区 — who pays the shared booster pump's electricity (谁受益谁承担).

Across the running directory, meetings and notify processes: the pump lifts water for floors 4 and up
only, so only those flats pay; the property company imports the month's meter readings as CSV;
two candidate plans (by usage; half by area, half by usage) are compared flat by flat; the
council adopts one; the month's bill, which does not divide evenly, comes out in whole fen that
add up to the bill exactly, the leftover fen placed by largest remainder (worked by hand below).
"""

from __future__ import annotations

import uuid

from tests.e2e.conftest import Http, until

# flat → (floor, registered area in m², water used in July in m³)
FLATS = {
    "101": (1, "70.00", None), "201": (2, "70.00", None), "301": (3, "88.50", None),
    "401": (4, "88.50", 14), "402": (4, "75.20", 9),
    "501": (5, "88.50", 0), "502": (5, "75.20", 21),
    "601": (6, "120.00", 16), "602": (6, "75.20", 10),
}
BILL_FEN = 12345  # 123.45 元 of electricity in 2026-07

# By usage (total 70 m³), exact shares of 12345 fen, floored, remainders:
#   401 14/70 → 2469       (.000)     402 9/70 → 1587.214 (.214)   501 0 → 0
#   502 21/70 → 3703.5     (.500)     601 16/70 → 2821.714 (.714)  602 10/70 → 1763.571 (.571)
#   floors sum to 12343: 2 fen left → the two largest remainders, 601 and 602.
BY_USAGE = {"401": 2469, "402": 1587, "501": 0, "502": 3703, "601": 2822, "602": 1764}

# Half by area (total 522.60 m²), half by usage: share = a/2/52260 + u/2/70, e.g.
#   401: 12345 × (8850/104520 + 14/140) = 2279.786…   402: 12345 × (7520/104520 + 9/140) = 1681.805…
#   501: 12345 × (8850/104520 + 0)      = 1045.286…   502: 12345 × (7520/104520 + 21/140) = 2739.947…
#   601: 12345 × (12000/104520 + 16/140) = 2828.194…  602: 12345 × (7520/104520 + 10/140) = 1769.983…
#   floors sum to 12341: 4 fen left → remainders .983 (602), .947 (502), .805 (402), .786 (401);
#   501 (.286) and 601 (.194) keep their floors.
HALF_AND_HALF = {"401": 2280, "402": 1682, "501": 1045, "502": 2740, "601": 2828, "602": 1770}

READINGS_CSV = "building,number,period,usage\n" + "".join(
    f"1号楼,{number},2026-07,{usage}\n" for number, (_, _, usage) in FLATS.items()
    if usage is not None)


async def test_pump_electricity_is_shared_by_those_it_serves_to_the_fen(http: Http) -> None:
    p = http.platform
    street = p.token(roles=["street_office"], compounds=["*"])
    compound = await http.post("directory", "/v1/compounds", street, {
        "name": f"南山归侨安置小区 {uuid.uuid4().hex[:6]}", "community": "南山社区",
        "street": "罗江街道", "district": "泉州市洛江区"}, status=201)
    c = f"/v1/compounds/{compound['id']}"
    cid = [compound["id"]]
    building = await http.post("directory", f"{c}/buildings", street,
                               {"name": "1号楼", "floors": 6}, status=201)
    units = {}
    for number, (floor, area, _) in FLATS.items():
        unit = await http.post("directory", f"{c}/units", street, {
            "building_id": building["id"], "floor": floor, "number": number, "area": area},
            status=201)
        units[number] = unit["id"]
    prop = p.token(roles=["property"], compounds=cid)
    branch = p.token(roles=["party_branch"], compounds=cid)
    resident = p.token(roles=["resident", "owner"], compounds=cid)

    # the pump serves floors 4 to 6: only those six flats benefit and pay
    cost = await http.post("meetings", f"{c}/costs", prop, {
        "name": "二次供水加压泵电费", "usage_unit": "m³",
        "description": "谁受益谁承担: 加压泵只为四层及以上供水",
        "beneficiaries": {"floors": [{"building_id": building["id"], "floors": [4, 5, 6]}]}},
        status=201)
    paying = {u["number"] for u in cost["units"]}
    assert paying == {"401", "402", "501", "502", "601", "602"}
    k = f"{c}/costs/{cost['id']}"

    imported = await http.call("POST", "meetings", f"{k}/readings/import", prop,
                               data=READINGS_CSV.encode(), content_type="text/csv", status=201)
    assert (imported["readings"], imported["periods"]) == (6, ["2026-07"])
    readings = await http.get("meetings", f"{k}/readings?period=2026-07", resident)
    by_unit = {r["unit_id"]: r["usage"] for r in readings["items"]}
    assert {n: float(by_unit[units[n]]) for n in paying} == {
        n: float(FLATS[n][2] or 0) for n in paying}

    plans = {"按用水量": {"method": "usage"},
             "面积用量各半": {"method": "weighted", "parts": [
                 {"method": "area", "weight": "1/2"}, {"method": "usage", "weight": "1/2"}]}}
    ids = {name: (await http.post("meetings", f"{k}/plans", prop, {"name": name, "method": m},
                                  status=201))["id"] for name, m in plans.items()}

    # residents compare the candidates flat by flat before anyone decides
    table = await http.get(
        "meetings", f"{k}/compare?total_fen={BILL_FEN}&period=2026-07&baseline=按用水量", resident)
    assert table["totals"] == {"按用水量": BILL_FEN, "面积用量各半": BILL_FEN}
    rows = {r["label"].split()[-1]: r for r in table["rows"]}
    assert set(rows) == paying
    assert {n: r["amounts"]["按用水量"] for n, r in rows.items()} == BY_USAGE
    assert {n: r["amounts"]["面积用量各半"] for n, r in rows.items()} == HALF_AND_HALF
    assert {n: r["diff"]["面积用量各半"] for n, r in rows.items()} == {
        n: HALF_AND_HALF[n] - BY_USAGE[n] for n in paying}
    assert rows["501"]["diff"]["面积用量各半"] == 1045  # the empty flat pays only the area half

    # the council settles on half and half; the property company cannot decide it alone
    await http.post("meetings", f"{k}/plans/{ids['面积用量各半']}/adopt", prop, status=403)
    adopted = await http.post("meetings", f"{k}/plans/{ids['面积用量各半']}/adopt", branch)
    assert adopted["status"] == "adopted"

    bill = await http.post("meetings", f"{k}/bills", prop,
                           {"period": "2026-07", "total_fen": BILL_FEN}, status=201)
    lines = {line["label"].split()[-1]: line["amount_fen"] for line in bill["lines"]}
    assert lines == HALF_AND_HALF
    assert sum(lines.values()) == BILL_FEN == bill["total_fen"]
    assert {line["unit_id"] for line in bill["lines"]} == {units[n] for n in paying}
    assert await http.get("meetings", f"{k}/bills/2026-07", resident) == bill

    # the bill reaches the compound's notice board: meetings' outbox → NATS → notify
    async def posted() -> list[dict[str, object]]:
        board = await http.get("notify", f"{c}/notices", resident)
        return [n for n in board["items"] if n["kind"] == "bills_issued"]

    [notice] = await until("the bill on the notice board", posted)
    assert notice["title"] == "二次供水加压泵电费 2026-07 分摊账单已出具"  # the cost, by name
