"""The flat table of the portal's pages: path, handler and who may open it.

`PERSON` pages need a signed-in person (otherwise: sign in, then come back); pages under
/c/{compound_id} also need the person to belong to that compound (otherwise: 404).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.portal import bill_pages as bp
from services.portal import centre_pages as ctr
from services.portal import election_pages as e
from services.portal import handlers as h
from services.portal import issue_pages as i
from services.portal import live
from services.portal import meeting_pages as m
from services.portal import volunteer_pages as vol
from services.portal import vote_pages as v
from services.portal.desk.routes import ROUTES as DESK
from services.portal.web import PageHandler


@dataclass(frozen=True)
class Page:
    method: str
    path: str
    handler: PageHandler
    access: Literal["public", "person", "dev"] = "person"


C = "/c/{compound_id}"
ISSUE = f"{C}/issues/{{issue_id}}"
PROPOSAL = f"{C}/proposals/{{proposal_id}}"
VOTE = f"{C}/votes/{{vote_id}}"
ORDER = f"{C}/orders/{{order_id}}"
CENTRE = f"{C}/centre"
ACTIVITY = f"{CENTRE}/activities/{{activity_id}}"

PAGES = [
    Page("GET", "/sign-in", h.sign_in_page, "public"),
    Page("POST", "/sign-in", h.send_code, "public"),
    Page("POST", "/sign-in/code", h.check_code, "public"),
    Page("GET", "/dev/sign-in", h.dev_sign_in_page, "dev"),
    Page("POST", "/dev/sign-in", h.dev_sign_in, "dev"),
    Page("POST", "/sign-out", h.sign_out, "public"),
    Page("GET", "/calendar/{person_id}/{compound_id}/{signature}.ics", m.calendar, "public"),
    Page("GET", "/", h.root),
    Page("GET", "/inbox", h.inbox),
    Page("POST", "/inbox/read-all", h.read_all),
    Page("POST", "/inbox/{notification_id}/read", h.read_one),
    Page("GET", "/preferences", h.preferences),
    Page("POST", "/preferences", h.save_preferences),
    Page("GET", "/media/{key}", i.photo),
    Page("GET", "/live", live.stream),
    Page("GET", "/live/poll", live.poll),
    Page("GET", C, h.home),
    Page("GET", f"{C}/issues", i.my_issues),
    Page("GET", f"{C}/issues/new", i.new_issue),
    Page("POST", f"{C}/issues/new", i.report),
    Page("GET", f"{C}/issues/similar", i.similar_fragment),
    Page("GET", ISSUE, i.issue_detail),
    Page("POST", f"{ISSUE}/cosign", i.cosign),
    Page("POST", f"{ISSUE}/feedback", i.feedback),
    Page("GET", f"{C}/proposals", v.proposals),
    Page("GET", PROPOSAL, v.proposal),
    Page("POST", f"{PROPOSAL}/opinions", v.give_opinion),
    Page("GET", VOTE, v.vote_page),
    Page("POST", f"{VOTE}/ballot", v.cast),
    Page("POST", f"{VOTE}/election-ballot", e.cast),
    Page("GET", f"{C}/bills", bp.bills),
    Page("GET", f"{C}/meetings", m.meetings),
    Page("GET", f"{C}/menu", vol.menu),
    Page("GET", f"{C}/menu/{{item_id}}/order", vol.order_page),
    Page("POST", f"{C}/menu/{{item_id}}/order", vol.place_order),
    Page("GET", f"{C}/orders", vol.my_orders),
    Page("GET", ORDER, vol.order_detail),
    Page("POST", f"{ORDER}/{{action:rate|cancel}}", vol.order_action),
    Page("GET", CENTRE, ctr.overview),
    Page("GET", f"{CENTRE}/book", ctr.booking_page),
    Page("POST", f"{CENTRE}/book", ctr.book),
    Page("POST", f"{CENTRE}/bookings/{{booking_id}}/cancel", ctr.cancel_booking),
    Page("GET", f"{CENTRE}/activities", ctr.activities_page),
    Page("POST", f"{ACTIVITY}/signups", ctr.activity_action),
    Page("POST", f"{ACTIVITY}/signups/{{signup_id}}/cancel", ctr.activity_action),
    Page("GET", f"{CENTRE}/groups", ctr.groups_page),
    Page("POST", f"{CENTRE}/groups/{{group_id}}/{{action:join|leave}}", ctr.group_action),
    Page("GET", f"{CENTRE}/library", ctr.library_page),
    *(Page(method, path, handler) for method, path, handler in DESK),
]
