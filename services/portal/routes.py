"""The flat table of the portal's pages: method, path, handler and who may open it (the
access levels are described at services.portal.web.PageAccess; app.guarded enforces them
before any handler runs, and tests/portal/test_page_access.py holds the table to it)."""

from __future__ import annotations

from services.portal import bill_pages as bp
from services.portal import centre_pages as ctr
from services.portal import election_pages as e
from services.portal import handlers as h
from services.portal import issue_pages as i
from services.portal import live
from services.portal import meeting_pages as m
from services.portal import preference_pages as pref
from services.portal import volunteer_pages as vol
from services.portal import vote_pages as v
from services.portal.desk.routes import PAGES as DESK
from services.portal.web import Page

C = "/c/{compound_id}"
ISSUE = f"{C}/issues/{{issue_id}}"
PROPOSAL = f"{C}/proposals/{{proposal_id}}"
VOTE = f"{C}/votes/{{vote_id}}"
ORDER = f"{C}/orders/{{order_id}}"
CENTRE = f"{C}/centre"
ACTIVITY = f"{CENTRE}/activities/{{activity_id}}"

PAGES = [
    Page("GET", "/favicon.ico", h.favicon, "public"),
    Page("GET", "/sign-in", h.sign_in_page, "public"),
    Page("POST", "/sign-in", h.send_code, "public"),
    Page("POST", "/sign-in/code", h.check_code, "public"),
    Page("GET", "/dev/sign-in", h.dev_sign_in_page, "dev"),
    Page("POST", "/dev/sign-in", h.dev_sign_in, "dev"),
    Page("POST", "/sign-out", h.sign_out, "public"),
    Page("GET", "/calendar/{person_id}/{compound_id}/{signature}.ics", m.calendar, "public"),
    Page("GET", "/", h.root, "person"),
    Page("GET", "/inbox", h.inbox, "person"),
    Page("POST", "/inbox/read-all", h.read_all, "person"),
    Page("POST", "/inbox/{notification_id}/read", h.read_one, "person"),
    Page("GET", "/preferences", pref.preferences, "person"),
    Page("POST", "/preferences", pref.save_preferences, "person"),
    Page("POST", "/preferences/channels/{channel:email|sms}", pref.save_channel, "person"),
    Page("POST", "/preferences/channels/{channel:email|sms}/close", pref.close_channel, "person"),
    Page("GET", "/media/{key}", i.photo, "person"),
    Page("GET", "/live", live.stream, "person"),
    Page("GET", "/live/poll", live.poll, "person"),
    Page("GET", C, h.home, "member"),
    Page("GET", f"{C}/issues", i.my_issues, "member"),
    Page("GET", f"{C}/issues/new", i.new_issue, "member"),
    Page("POST", f"{C}/issues/new", i.report, "member"),
    Page("GET", f"{C}/issues/similar", i.similar_fragment, "member"),
    Page("GET", ISSUE, i.issue_detail, "member"),
    Page("POST", f"{ISSUE}/cosign", i.cosign, "member"),
    Page("POST", f"{ISSUE}/feedback", i.feedback, "member"),
    Page("GET", f"{C}/proposals", v.proposals, "member"),
    Page("GET", PROPOSAL, v.proposal, "member"),
    Page("POST", f"{PROPOSAL}/opinions", v.give_opinion, "member"),
    Page("GET", VOTE, v.vote_page, "member"),
    Page("POST", f"{VOTE}/ballot", v.cast, "member"),
    Page("POST", f"{VOTE}/election-ballot", e.cast, "member"),
    Page("GET", f"{C}/bills", bp.bills, "member"),
    Page("GET", f"{C}/meetings", m.meetings, "member"),
    Page("GET", f"{C}/menu", vol.menu, "member"),
    Page("GET", f"{C}/menu/{{item_id}}/order", vol.order_page, "member"),
    Page("POST", f"{C}/menu/{{item_id}}/order", vol.place_order, "member"),
    Page("GET", f"{C}/orders", vol.my_orders, "member"),
    Page("GET", ORDER, vol.order_detail, "member"),
    Page("POST", f"{ORDER}/{{action:rate|cancel}}", vol.order_action, "member"),
    Page("GET", CENTRE, ctr.overview, "member"),
    Page("GET", f"{CENTRE}/book", ctr.booking_page, "member"),
    Page("POST", f"{CENTRE}/book", ctr.book, "member"),
    Page("POST", f"{CENTRE}/bookings/{{booking_id}}/cancel", ctr.cancel_booking, "member"),
    Page("GET", f"{CENTRE}/activities", ctr.activities_page, "member"),
    Page("POST", f"{ACTIVITY}/signups", ctr.activity_action, "member"),
    Page("POST", f"{ACTIVITY}/signups/{{signup_id}}/cancel", ctr.activity_action, "member"),
    Page("GET", f"{CENTRE}/groups", ctr.groups_page, "member"),
    Page("POST", f"{CENTRE}/groups/{{group_id}}/{{action:join|leave}}", ctr.group_action,
         "member"),
    Page("GET", f"{CENTRE}/library", ctr.library_page, "member"),
    *DESK,
]
