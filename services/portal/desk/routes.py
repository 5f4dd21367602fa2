"""The desk's pages: every one for a person with a staff role in the compound of the path
("desk" access, enforced before the handler; a resident finds no desk: 404)."""

from __future__ import annotations

from services.portal.desk import activities as ca
from services.portal.desk import centre as ce
from services.portal.desk import costs as k
from services.portal.desk import home
from services.portal.desk import issues as i
from services.portal.desk import library as lib
from services.portal.desk import meetings as m
from services.portal.desk import notices as n
from services.portal.desk import proposals as p
from services.portal.desk import stats as st
from services.portal.desk import volunteers as vol
from services.portal.desk import votes as v
from services.portal.web import Page

D = "/desk/c/{compound_id}"
ISSUE = f"{D}/issues/{{issue_id}}"
ISSUE_ACTIONS = "accept|start|resolve|reject|duplicate|respond|reassign|escalate"
PROPOSAL = f"{D}/proposals/{{proposal_id}}"
PROPOSAL_ACTIONS = "start|revise|decide|progress|accept|send-back|cancel|open-vote|retry|give-up"
VOTE = f"{D}/votes/{{vote_id}}"
MEETING = f"{D}/meetings/{{meeting_id}}"
COST = f"{D}/costs/{{cost_id}}"
ACTIVITY = f"{D}/centre/activities/{{activity_id}}"
LIBRARY = f"{D}/centre/library"
MEETING_ACTIONS = "|".join(m.MEETING_ACTIONS)

PAGES = [
    Page("GET", D, home.home, "desk"),
    Page("GET", f"{D}/issues", i.queue, "desk"),
    Page("GET", ISSUE, i.issue, "desk"),
    Page("POST", f"{ISSUE}/{{action:{ISSUE_ACTIONS}}}", i.issue_action, "desk"),
    Page("GET", f"{D}/proposals", p.proposals, "desk"),
    Page("POST", f"{D}/proposals", p.create, "desk"),
    Page("GET", PROPOSAL, p.proposal, "desk"),
    Page("POST", f"{PROPOSAL}/{{action:{PROPOSAL_ACTIONS}}}", p.proposal_action, "desk"),
    Page("GET", VOTE, v.vote, "desk"),
    Page("POST", f"{VOTE}/{{action:paper|close|cancel}}", v.vote_action, "desk"),
    Page("GET", f"{D}/meetings", m.meetings, "desk"),
    Page("POST", f"{D}/meetings", m.convene, "desk"),
    Page("GET", MEETING, m.meeting, "desk"),
    Page("GET", f"{MEETING}/sheet", m.sheet, "desk"),
    Page("POST", f"{MEETING}/{{action:{MEETING_ACTIONS}}}", m.meeting_action, "desk"),
    Page("POST", f"{MEETING}/items/{{item_id}}/{{action:opinion|outcome|follow-up}}",
         m.item_action, "desk"),
    Page("GET", f"{D}/costs", k.costs, "desk"),
    Page("POST", f"{D}/costs", k.create, "desk"),
    Page("GET", COST, k.cost, "desk"),
    Page("POST", f"{COST}/{{action:readings|plan|adopt|bills}}", k.cost_action, "desk"),
    Page("GET", f"{D}/volunteers", vol.volunteers, "desk"),
    Page("GET", f"{D}/volunteers/ledger.csv", vol.ledger_csv, "desk"),
    Page("POST", f"{D}/orders/{{order_id}}/{{action:accept|start|complete|assign|cancel}}",
         vol.order_action, "desk"),
    Page("POST", f"{D}/care-visits/{{visit_id}}/acknowledge", vol.acknowledge, "desk"),
    Page("GET", f"{D}/notices", n.notices, "desk"),
    Page("POST", f"{D}/notices", n.post, "desk"),
    Page("POST", f"{D}/templates/{{kind}}/{{action:save|reset}}", n.template_action, "desk"),
    Page("GET", f"{D}/centre", ce.centre, "desk"),
    Page("POST", f"{D}/bookings/{{booking_id}}/{{action:approve|decline}}", ce.booking_action,
         "desk"),
    Page("POST", f"{D}/groups/{{group_id}}/approve", ce.approve_group, "desk"),
    Page("POST", f"{D}/centre/venues", ce.add_venue, "desk"),
    Page("POST", f"{D}/centre/activities", ca.publish, "desk"),
    Page("GET", ACTIVITY, ca.activity, "desk"),
    Page("POST", f"{ACTIVITY}/check-in", ca.check_in, "desk"),
    Page("GET", LIBRARY, lib.library, "desk"),
    Page("POST", f"{LIBRARY}/loans", lib.lend, "desk"),
    Page("POST", f"{LIBRARY}/loans/{{loan_id}}/return", lib.give_back, "desk"),
    Page("POST", f"{LIBRARY}/books", lib.add_book, "desk"),
    Page("GET", f"{D}/stats", st.stats, "desk"),
    Page("GET", f"{D}/stats.csv", st.stats_csv, "desk"),
]
