"""HTTP views of the centre: parse → use case → response; no SQL here."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from linli import problems
from linli.clients import ServiceClient
from linli.directory import Directory
from linli.http import POOL, Call
from linli.pagination import Page
from services.centre import (
    activities,
    bookings,
    groups,
    library,
    service,
    signups,
    stats,
    timeline,
)
from services.centre.models import (
    Activity,
    Book,
    Booking,
    CentreStats,
    Closure,
    Group,
    Hold,
    JoinIn,
    Loan,
    Member,
    MyLibrary,
    Plan,
    Series,
    Signup,
    SignupIn,
    Venue,
)

DIRECTORY = web.AppKey("centre.directory", ServiceClient)
# the same client seen as linli.directory (whether the people a request names belong to a compound)
DIRECTORY_VIEW = web.AppKey("centre.directory_view", Directory)
# Compounds the directory confirmed (it never deletes one): one HTTP hop per compound.
KNOWN = web.AppKey("centre.known_compounds", set[uuid.UUID])


def _cid(call: Call) -> uuid.UUID:
    return call.uuid_param("compound_id", "小区")


async def _compound(call: Call) -> uuid.UUID:
    """The compound of the path, known to the directory (checked before the first write)."""
    cid = _cid(call)
    if cid not in call.app[KNOWN]:
        await call.app[DIRECTORY].get_or(f"/v1/compounds/{cid}", problems.not_found("小区"))
        call.app[KNOWN].add(cid)
    return cid


def _id(call: Call, name: str, what: str) -> uuid.UUID:
    return call.uuid_param(name, what)


# ---------------------------------------------------------------- venues and bookings


async def create_venue(call: Call) -> Venue:
    return await service.create_venue(call.app[POOL], compound_id=await _compound(call),
                                      who=call.who, data=call.body)


async def list_venues(call: Call) -> Page[Venue]:
    return await service.list_venues(call.app[POOL], compound_id=_cid(call))


async def get_venue(call: Call) -> Venue:
    return await service.get_venue(call.app[POOL], compound_id=_cid(call),
                                   venue_id=_id(call, "venue_id", "场地"))


async def add_closure(call: Call) -> Closure:
    return await service.add_closure(call.app[POOL], compound_id=_cid(call),
                                     venue_id=_id(call, "venue_id", "场地"), who=call.who,
                                     data=call.body)


async def list_closures(call: Call) -> Page[Closure]:
    return await service.list_closures(call.app[POOL], compound_id=_cid(call),
                                       venue_id=_id(call, "venue_id", "场地"))


async def book(call: Call) -> Booking:
    return await service.book(call.app[POOL], call.app[DIRECTORY_VIEW], compound_id=_cid(call),
                              who=call.who, data=call.body)


async def list_bookings(call: Call) -> Page[Booking]:
    return await service.list_bookings(call.app[POOL], compound_id=_cid(call), who=call.who,
                                       query=call.query)


async def get_booking(call: Call) -> Booking:
    return await service.get_booking(call.app[POOL], compound_id=_cid(call),
                                     booking_id=_id(call, "booking_id", "预约"), who=call.who)


def booking_action(name: str) -> Callable[[Call], Awaitable[Booking]]:
    """The view of one booking action (approve, decline, cancel, no_show)."""

    async def view(call: Call) -> Booking:
        reason = getattr(call.body, "reason", None)
        return await bookings.act(call.app[POOL], compound_id=_cid(call),
                                  booking_id=_id(call, "booking_id", "预约"), who=call.who,
                                  action=name, reason=reason)

    view.__name__ = f"booking_{name}"
    return view


async def move_booking(call: Call) -> Booking:
    return await bookings.move(call.app[POOL], compound_id=_cid(call),
                               booking_id=_id(call, "booking_id", "预约"), who=call.who,
                               data=call.body)


async def create_series(call: Call) -> Series:
    return await bookings.create_series(call.app[POOL], compound_id=_cid(call), who=call.who,
                                        data=call.body)


async def get_series(call: Call) -> Series:
    return await bookings.get_series(call.app[POOL], compound_id=_cid(call),
                                     series_id=_id(call, "series_id", "系列预约"), who=call.who)


# ---------------------------------------------------------------- plans and activities


async def create_plan(call: Call) -> Plan:
    return await activities.create_plan(call.app[POOL], compound_id=await _compound(call),
                                        who=call.who, data=call.body)


async def list_plans(call: Call) -> Page[Plan]:
    return await activities.list_plans(call.app[POOL], compound_id=_cid(call), query=call.query)


async def get_plan(call: Call) -> Plan:
    return await activities.get_plan(call.app[POOL], compound_id=_cid(call),
                                     plan_id=_id(call, "plan_id", "活动计划"))


async def publish_plan(call: Call) -> Plan:
    return await activities.publish_plan(call.app[POOL], compound_id=_cid(call),
                                         plan_id=_id(call, "plan_id", "活动计划"), who=call.who)


async def create_activity(call: Call) -> Activity:
    return await activities.create_activity(call.app[POOL], compound_id=await _compound(call),
                                            who=call.who, data=call.body)


async def list_activities(call: Call) -> Page[Activity]:
    return await activities.list_activities(call.app[POOL], compound_id=_cid(call),
                                            query=call.query)


async def get_activity(call: Call) -> Activity:
    return await activities.get_activity(call.app[POOL], compound_id=_cid(call),
                                         activity_id=_id(call, "activity_id", "活动"))


async def cancel_activity(call: Call) -> Activity:
    return await activities.cancel_activity(call.app[POOL], compound_id=_cid(call),
                                            activity_id=_id(call, "activity_id", "活动"),
                                            who=call.who, reason=call.body.reason)


async def sign_up(call: Call) -> Signup:
    return await signups.sign_up(call.app[POOL], call.app[DIRECTORY_VIEW], compound_id=_cid(call),
                                    activity_id=_id(call, "activity_id", "活动"), who=call.who,
                                    data=call.body or SignupIn())


async def list_signups(call: Call) -> Page[Signup]:
    return await signups.list_signups(call.app[POOL], compound_id=_cid(call),
                                         activity_id=_id(call, "activity_id", "活动"),
                                         who=call.who, query=call.query)


async def cancel_signup(call: Call) -> Signup:
    return await signups.cancel_signup(call.app[POOL], compound_id=_cid(call),
                                          activity_id=_id(call, "activity_id", "活动"),
                                          signup_id=_id(call, "signup_id", "报名"), who=call.who)


async def confirm_signup(call: Call) -> Signup:
    return await signups.confirm(call.app[POOL], compound_id=_cid(call),
                                 activity_id=_id(call, "activity_id", "活动"),
                                 signup_id=_id(call, "signup_id", "报名"), who=call.who)


async def check_in(call: Call) -> Signup:
    return await signups.check_in(call.app[POOL], compound_id=_cid(call),
                                     activity_id=_id(call, "activity_id", "活动"), who=call.who,
                                     data=call.body)


async def feedback(call: Call) -> Signup:
    return await signups.feedback(call.app[POOL], compound_id=_cid(call),
                                     activity_id=_id(call, "activity_id", "活动"),
                                     signup_id=_id(call, "signup_id", "报名"), who=call.who,
                                     score=call.body.score)


# ---------------------------------------------------------------- interest groups


async def propose_group(call: Call) -> Group:
    return await groups.propose(call.app[POOL], compound_id=await _compound(call), who=call.who,
                                data=call.body)


async def list_groups(call: Call) -> Page[Group]:
    return await groups.list_groups(call.app[POOL], compound_id=_cid(call), status=None,
                                    query=call.query)


async def get_group(call: Call) -> Group:
    return await groups.get_group(call.app[POOL], compound_id=_cid(call),
                                  group_id=_id(call, "group_id", "兴趣小组"))


async def approve_group(call: Call) -> Group:
    return await groups.approve(call.app[POOL], compound_id=_cid(call),
                                group_id=_id(call, "group_id", "兴趣小组"), who=call.who)


async def join_group(call: Call) -> Member:
    return await groups.join(call.app[POOL], compound_id=_cid(call),
                             group_id=_id(call, "group_id", "兴趣小组"), who=call.who,
                             data=call.body or JoinIn())


async def group_members(call: Call) -> Page[Member]:
    return await groups.members(call.app[POOL], compound_id=_cid(call),
                                group_id=_id(call, "group_id", "兴趣小组"), query=call.query)


async def accept_member(call: Call) -> Member:
    return await groups.accept(call.app[POOL], compound_id=_cid(call),
                               group_id=_id(call, "group_id", "兴趣小组"),
                               person_id=call.param("person_id"), who=call.who)


async def leave_group(call: Call) -> Member:
    return await groups.leave(call.app[POOL], compound_id=_cid(call),
                              group_id=_id(call, "group_id", "兴趣小组"),
                              person_id=call.param("person_id"), who=call.who)


# ---------------------------------------------------------------- library


async def add_book(call: Call) -> Book:
    return await library.add_book(call.app[POOL], compound_id=await _compound(call),
                                  data=call.body)


async def list_books(call: Call) -> Page[Book]:
    return await library.list_books(call.app[POOL], compound_id=_cid(call), query=call.query)


async def get_book(call: Call) -> Book:
    return await library.get_book(call.app[POOL], compound_id=_cid(call),
                                  book_id=_id(call, "book_id", "图书"))


async def lend(call: Call) -> Loan:
    return await library.lend(call.app[POOL], call.app[DIRECTORY_VIEW], compound_id=_cid(call),
                              who=call.who, data=call.body)


async def on_loan(call: Call) -> Page[Loan]:
    return await library.on_loan(call.app[POOL], compound_id=_cid(call), query=call.query)


def loan_action(name: str) -> Callable[[Call], Awaitable[Loan]]:
    """The view of one loan action (return, renew, lost)."""
    use_case = {"return": library.give_back, "renew": library.renew, "lost": library.lost}[name]

    async def view(call: Call) -> Loan:
        return await use_case(call.app[POOL], compound_id=_cid(call),
                              loan_id=_id(call, "loan_id", "借阅"), who=call.who)

    view.__name__ = f"loan_{name}"
    return view


async def place_hold(call: Call) -> Hold:
    return await library.place_hold(call.app[POOL], call.app[DIRECTORY_VIEW],
                                    compound_id=_cid(call), who=call.who, data=call.body)


async def cancel_hold(call: Call) -> Hold:
    return await library.cancel_hold(call.app[POOL], compound_id=_cid(call),
                                     hold_id=_id(call, "hold_id", "预约"), who=call.who)


async def my_library(call: Call) -> MyLibrary:
    return await library.my_library(call.app[POOL], compound_id=_cid(call), who=call.who)


async def centre_stats(call: Call) -> CentreStats:
    return await stats.centre_stats(call.app[POOL], compound_id=_cid(call), query=call.query)


def timeline_step(name: str) -> Callable[[Call], Awaitable[Activity]]:
    """The view of one timeline step (remind, request-feedback, close)."""
    use_case = {"remind": timeline.remind, "request-feedback": timeline.request_feedback,
                "close": timeline.close}[name]

    async def view(call: Call) -> Activity:
        return await use_case(call.app[POOL], compound_id=_cid(call),
                              activity_id=_id(call, "activity_id", "活动"), who=call.who)

    view.__name__ = f"activity_{name.replace('-', '_')}"
    return view
