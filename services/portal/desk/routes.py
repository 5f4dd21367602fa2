"""The desk's pages: (method, path, handler), every one for a signed-in person; the handlers
then open only for a staff role in the compound of the path (desk_of)."""

from __future__ import annotations

from services.portal.desk import centre as ce
from services.portal.desk import costs as k
from services.portal.desk import home
from services.portal.desk import issues as i
from services.portal.desk import meetings as m
from services.portal.desk import notices as n
from services.portal.desk import proposals as p
from services.portal.desk import stats as st
from services.portal.desk import volunteers as vol
from services.portal.desk import votes as v

D = "/desk/c/{compound_id}"
ISSUE = f"{D}/issues/{{issue_id}}"
ISSUE_ACTIONS = "accept|start|resolve|reject|duplicate|respond|reassign|escalate"
PROPOSAL = f"{D}/proposals/{{proposal_id}}"
PROPOSAL_ACTIONS = "start|revise|decide|progress|accept|send-back|cancel|open-vote|retry|give-up"
VOTE = f"{D}/votes/{{vote_id}}"
MEETING = f"{D}/meetings/{{meeting_id}}"
COST = f"{D}/costs/{{cost_id}}"
MEETING_ACTIONS = "|".join(m.MEETING_ACTIONS)

ROUTES = [
    ("GET", D, home.home),
    ("GET", f"{D}/issues", i.queue),
    ("GET", ISSUE, i.issue),
    ("POST", f"{ISSUE}/{{action:{ISSUE_ACTIONS}}}", i.issue_action),
    ("GET", f"{D}/proposals", p.proposals),
    ("POST", f"{D}/proposals", p.create),
    ("GET", PROPOSAL, p.proposal),
    ("POST", f"{PROPOSAL}/{{action:{PROPOSAL_ACTIONS}}}", p.proposal_action),
    ("GET", VOTE, v.vote),
    ("POST", f"{VOTE}/{{action:paper|close|cancel}}", v.vote_action),
    ("GET", f"{D}/meetings", m.meetings),
    ("POST", f"{D}/meetings", m.convene),
    ("GET", MEETING, m.meeting),
    ("GET", f"{MEETING}/sheet", m.sheet),
    ("POST", f"{MEETING}/{{action:{MEETING_ACTIONS}}}", m.meeting_action),
    ("POST", f"{MEETING}/items/{{item_id}}/{{action:opinion|outcome|follow-up}}", m.item_action),
    ("GET", f"{D}/costs", k.costs),
    ("POST", f"{D}/costs", k.create),
    ("GET", COST, k.cost),
    ("POST", f"{COST}/{{action:readings|plan|adopt|bills}}", k.cost_action),
    ("GET", f"{D}/volunteers", vol.volunteers),
    ("GET", f"{D}/volunteers/ledger.csv", vol.ledger_csv),
    ("POST", f"{D}/orders/{{order_id}}/{{action:accept|start|complete|assign|cancel}}",
     vol.order_action),
    ("POST", f"{D}/care-visits/{{visit_id}}/acknowledge", vol.acknowledge),
    ("GET", f"{D}/notices", n.notices),
    ("POST", f"{D}/notices", n.post),
    ("POST", f"{D}/templates/{{kind}}/{{action:save|reset}}", n.template_action),
    ("GET", f"{D}/centre", ce.centre),
    ("POST", f"{D}/bookings/{{booking_id}}/{{action:approve|decline}}", ce.booking_action),
    ("POST", f"{D}/groups/{{group_id}}/approve", ce.approve_group),
    ("GET", f"{D}/stats", st.stats),
    ("GET", f"{D}/stats.csv", st.stats_csv),
]
