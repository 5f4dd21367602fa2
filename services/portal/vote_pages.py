"""Proposals with their versions and opinions, and votes: my ballot, the rule in plain words,
live turnout against the thresholds, and the result with every threshold after close."""

from __future__ import annotations

import asyncio
import difflib
from fractions import Fraction
from itertools import pairwise
from typing import Any

from aiohttp import web

from services.portal.handlers import compound_of
from services.portal.web import ApiError, api, form, is_https, redirect, render

STANCES = {"support": "支持", "oppose": "反对", "suggest": "建议"}
CHOICES = {"agree": "同意", "oppose": "反对", "abstain": "弃权"}
THRESHOLD_NAMES = {
    "participation_area": "参与表决的专有部分面积", "participation_headcount": "参与表决的业主人数",
    "approval_area": "同意的专有部分面积", "approval_headcount": "同意的业主人数"}
COMPARISONS = {">=": "不少于", ">": "超过"}
RULES = {
    "civil_code_major": (
        "本事项属于《民法典》第二百七十八条第六至八项 (筹集维修资金、改建重建、改变共有部分用途等)。"
        "须同时满足: 参与表决的业主专有部分面积不少于总面积的三分之二, 且人数不少于总人数的三分之二;"
        " 同意的面积不少于参与表决面积的四分之三, 且同意的人数不少于参与表决人数的四分之三。"),
    "civil_code_ordinary": (
        "本事项属于《民法典》第二百七十八条规定的其他共同决定事项。"
        "须同时满足: 参与表决的业主专有部分面积不少于总面积的三分之二, 且人数不少于总人数的三分之二;"
        " 同意的面积超过参与表决面积的一半, 且同意的人数超过参与表决人数的一半。"),
    "simple_majority": "同意的人数超过参与表决人数的一半即通过。",
    "consensus": "参与表决的人全部同意才算通过。",
    "committee_election": (
        "本次为业主委员会选举 (《民法典》第二百七十八条第三项)。每位候选人须各自同时满足:"
        " 参与表决的面积与人数均不少于总数的三分之二; 赞成该候选人的面积与人数均超过参与表决的一半。"
        " 席位按赞成人数、再按赞成面积依次分配; 末位席位完全相同的并列如实公布, 不作随意取舍。"),
}
RECEIPT_DAYS = 400  # a secret ballot's receipt outlives the vote: the owner may look later
ABSTAIN = "弃权算作参与表决, 但不算同意。每套房屋一票, 同一业主拥有多套房屋只算一人。"


def rule_text(vote: dict[str, Any]) -> str:
    text = RULES.get(vote["rule"], vote["rule"])
    if vote["rule"] == "simple_majority" and vote.get("quorum"):
        text += f" 另须参与表决的人数达到总人数的 {vote['quorum']}。"
    return f"{text} {ABSTAIN}"


def quorum_marks(vote: dict[str, Any]) -> dict[str, float]:
    """Where the participation thresholds sit on the turnout bars (0–100)."""
    if vote["rule"] in ("civil_code_major", "civil_code_ordinary", "committee_election"):
        return {"area": 200 / 3, "headcount": 200 / 3}
    if vote["rule"] == "simple_majority" and vote.get("quorum"):
        return {"headcount": float(Fraction(vote["quorum"]) * 100)}
    return {}


def turnout_bars(turnout: dict[str, Any], vote: dict[str, Any]) -> dict[str, Any]:
    """Percentages for the bars; the same shape goes out on the live stream."""
    def pct(part: int, whole: int) -> float:
        return round(100 * part / whole, 1) if whole else 0.0
    marks = quorum_marks(vote)
    area = pct(turnout["participating_area_centi"], turnout["total_area_centi"])
    heads = pct(turnout["participating_headcount"], turnout["total_headcount"])
    return {
        "status": turnout["status"], "ballots": turnout["ballots"],
        "area": {"pct": area, "mark": marks.get("area"),
                 "text": f"{turnout['participating_area_centi'] / 100:.2f} / "
                         f"{turnout['total_area_centi'] / 100:.2f} m² ({area}%)"},
        "headcount": {"pct": heads, "mark": marks.get("headcount"),
                      "text": f"{turnout['participating_headcount']} / "
                              f"{turnout['total_headcount']} 人 ({heads}%)"},
    }


def _value(name: str, amount: int) -> str:
    return f"{amount / 100:.2f} m²" if name.endswith("_area") else f"{amount} 人"


def thresholds(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    # a committee election has its thresholds per candidate (result.candidates), none overall
    for t in result["result"].get("thresholds", []):
        rows.append({**t, "label": THRESHOLD_NAMES.get(t["name"], t["name"]),
                     "rule": f"{COMPARISONS.get(t['comparison'], t['comparison'])} "
                             f"{t['ratio']} × {_value(t['name'], t['base'])}",
                     "needed_text": _value(t["name"], t["needed"]),
                     "reached_text": _value(t["name"], t["reached"])})
    return rows


def changes(old: str, new: str) -> list[tuple[str, str]]:
    """What changed between two versions' texts, character by character (Chinese has no
    spaces to split words on): ("same" | "added" | "removed", text) runs."""
    runs: list[tuple[str, str]] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            runs.append(("removed", old[a1:a2]))
        if op in ("replace", "insert"):
            runs.append(("added", new[b1:b2]))
        if op == "equal":
            runs.append(("same", new[b1:b2]))
    return runs


async def proposals(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    cid = str(c.compound_id)
    page = await api(request, "meetings", cid).get(f"/v1/compounds/{cid}/proposals?limit=50")
    items = [p for p in page["items"] if p["status"] != "draft"]
    return render(request, "proposals.html", {"compound": c, "proposals": items})


async def proposal(request: web.Request, errors: dict[str, str] | None = None,
                   status: int = 200) -> web.StreamResponse:
    c = compound_of(request)
    cid, pid = str(c.compound_id), request.match_info["proposal_id"]
    meetings = api(request, "meetings", cid)
    base = f"/v1/compounds/{cid}/proposals/{pid}"
    item, versions, summary, votes = await asyncio.gather(
        meetings.get(base), meetings.get_all(f"{base}/versions"),
        meetings.get(f"{base}/opinions/summary"), meetings.get_all(f"{base}/votes"))
    if item["status"] == "draft":
        raise web.HTTPNotFound()
    counts = {s["version"]: s for s in summary["versions"]}
    ordered = sorted(versions, key=lambda v: v["number"])
    diffs = {later["number"]: changes(earlier["body"], later["body"])
             for earlier, later in pairwise(ordered)}
    consultation = summary["consultation"]
    return render(request, "proposal.html", {
        "compound": c, "p": item, "versions": sorted(versions, key=lambda v: -v["number"]),
        "counts": counts, "consultation": consultation, "stances": STANCES, "votes": votes,
        "can_opine": bool(consultation and consultation["status"] == "open"), "diffs": diffs,
        "errors": errors or {}}, status=status)


async def give_opinion(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    cid, pid = str(c.compound_id), request.match_info["proposal_id"]
    data = await form(request)
    body = {"stance": str(data.get("stance", "")), "text": str(data.get("text", "")).strip()}
    errors = {}
    if body["stance"] not in STANCES:
        errors["stance"] = "请选择支持、反对或建议"
    if not body["text"]:
        errors["text"] = "请写下你的意见"
    if not errors:
        try:
            await api(request, "meetings", cid).post(
                f"/v1/compounds/{cid}/proposals/{pid}/opinions", body)
            raise redirect(f"/c/{cid}/proposals/{pid}?done=opinion")
        except ApiError as exc:
            if exc.status == 404:
                raise
            errors = {"text": exc.detail}
    return await proposal(request, errors, status=422)


async def vote_page(request: web.Request, errors: dict[str, str] | None = None,
                    status: int = 200) -> web.StreamResponse:
    c = compound_of(request)
    cid, vid = str(c.compound_id), request.match_info["vote_id"]
    meetings = api(request, "meetings", cid)
    base = f"/v1/compounds/{cid}/votes/{vid}"
    vote = await meetings.get(base)
    item = await meetings.get(f"/v1/compounds/{cid}/proposals/{vote['proposal_id']}")
    if vote["rule"] == "committee_election":  # its own ballot: one mark per candidate
        from services.portal import election_pages  # it builds on this module's helpers

        return await election_pages.page(request, vote, item, errors, status=status)
    bars = result = None
    mine = await my_ballot(request, cid, vid) if "owner" in c.roles else None
    if vote["status"] == "open" and not vote["secret"]:
        bars = turnout_bars(await meetings.get(f"{base}/turnout"), vote)
    if vote["status"] == "closed":
        result = await meetings.get(f"{base}/result")
    return render(request, "vote.html", {
        "compound": c, "p": item, "vote": vote, "rule": rule_text(vote), "bars": bars,
        "result": result, "rows": thresholds(result) if result else [], "choices": CHOICES,
        "errors": errors or {}, "owner": "owner" in c.roles, "mine": mine,
        "cast": _precheck(request, mine)}, status=status)


def receipt_cookie(vote_id: str) -> str:
    return f"linli_ballot_{vote_id.replace('-', '')}"


async def my_ballot(request: web.Request, cid: str, vid: str) -> dict[str, Any] | None:
    """What I voted: the meetings service tells only me; a secret ballot only with the receipt
    this browser kept when I cast it. None when I am not on the roll."""
    receipt = request.cookies.get(receipt_cookie(vid), "")
    headers = {"X-Ballot-Receipt": receipt} if receipt else None
    try:
        mine: dict[str, Any] = await api(request, "meetings", cid).request(
            "GET", f"/v1/compounds/{cid}/votes/{vid}/ballots/mine", headers=headers)
    except ApiError as exc:
        if exc.status == 403:
            return None
        raise
    voted = [e for e in mine["entries"] if e["voted"]]
    return {"voted": bool(voted), "entries": mine["entries"], "secret": mine["secret"],
            "choices": [CHOICES.get(e["choice"], "") for e in voted],
            "known": all(e["choice"] for e in voted)}


def _precheck(request: web.Request, mine: dict[str, Any] | None) -> str:
    """The radio checked on the form: the choice just sent, or the one on record."""
    sent = request.query.get("done", "").removeprefix("voted-")
    if sent or not mine or len(mine["entries"]) != 1:
        return sent
    return str(mine["entries"][0]["choice"] or "")


async def cast(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    cid, vid = str(c.compound_id), request.match_info["vote_id"]
    choice = str((await form(request)).get("choice", ""))
    if choice not in CHOICES:
        return await vote_page(request, {"choice": "请选择同意、反对或弃权"}, status=422)
    try:
        ballot = await api(request, "meetings", cid).post(
            f"/v1/compounds/{cid}/votes/{vid}/ballots", {"choice": choice})
    except ApiError as exc:
        if exc.status == 404:
            raise
        return await vote_page(request, {"choice": exc.detail}, status=422)
    done = redirect(f"/c/{cid}/votes/{vid}?done=voted-{choice}")
    if ballot.get("receipt"):  # a secret ballot: only this browser can read the choice back
        done.set_cookie(receipt_cookie(vid), ballot["receipt"], max_age=RECEIPT_DAYS * 86400,
                        path=f"/c/{cid}/votes/{vid}", httponly=True, samesite="Lax",
                        secure=is_https(request))
    raise done
