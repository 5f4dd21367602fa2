"""HTTP views of council meetings and minutes: parse → use case → response; no SQL."""

from __future__ import annotations

import uuid

from aiohttp import web

from linli.http import POOL, Call
from linli.pagination import Page
from services.meetings.councils import calendar as calendar_feed
from services.meetings.councils import changes, minutes, service
from services.meetings.councils.models import (
    AgendaItem,
    CalendarFeed,
    CalendarFeedCreated,
    Invitee,
    Meeting,
    Minutes,
    Quorum,
)
from services.meetings.keys import CENTRE, DIRECTORY_VIEW
from services.meetings.proposals.handlers import compound


def meeting(call: Call) -> uuid.UUID:
    return call.uuid_param("meeting_id", "会议")


def item(call: Call) -> uuid.UUID:
    return call.uuid_param("item_id", "议程事项")


async def convene(call: Call) -> Meeting:
    return await service.convene(call.app[POOL], call.app[DIRECTORY_VIEW],
                                  compound_id=compound(call), data=call.body, by=call.who.subject,
                                  centre=call.app[CENTRE])


async def list_meetings(call: Call) -> Page[Meeting]:
    return await service.list_meetings(call.app[POOL], compound_id=compound(call),
                                       query=call.query)


async def get_meeting(call: Call) -> Meeting:
    return await service.get_meeting(call.app[POOL], compound_id=compound(call),
                                      meeting_id=meeting(call))


async def add_item(call: Call) -> AgendaItem:
    return await service.add_item(call.app[POOL], compound_id=compound(call),
                                   meeting_id=meeting(call), data=call.body, who=call.who)


async def reorder(call: Call) -> list[AgendaItem]:
    return await changes.reorder(call.app[POOL], compound_id=compound(call),
                                         meeting_id=meeting(call), item_ids=call.body.item_ids,
                                         who=call.who)


async def cancel(call: Call) -> Meeting:
    return await changes.cancel(call.app[POOL], compound_id=compound(call),
                                        meeting_id=meeting(call), reason=call.body.reason,
                                        who=call.who)


async def unscheduled(call: Call) -> Page[AgendaItem]:
    return await service.unscheduled(call.app[POOL], compound_id=compound(call), query=call.query)


async def rsvp(call: Call) -> Invitee:
    return await service.rsvp(call.app[POOL], compound_id=compound(call),
                               meeting_id=meeting(call), answer=call.body.answer,
                               person=call.who.person_id)


async def check_in(call: Call) -> Invitee:
    return await service.check_in(call.app[POOL], compound_id=compound(call),
                                   meeting_id=meeting(call), person_id=call.body.person_id,
                                   who=call.who)


async def quorum(call: Call) -> Quorum:
    return await service.quorum(call.app[POOL], compound_id=compound(call),
                                 meeting_id=meeting(call))


async def item_opinion(call: Call) -> AgendaItem:
    return await minutes.record_opinion(call.app[POOL], call.app[DIRECTORY_VIEW],
                                        compound_id=compound(call),
                                        meeting_id=meeting(call), item_id=item(call),
                                        data=call.body, who=call.who)


async def item_outcome(call: Call) -> AgendaItem:
    return await minutes.set_outcome(call.app[POOL], compound_id=compound(call),
                                     meeting_id=meeting(call), item_id=item(call),
                                     data=call.body, who=call.who)


async def item_action(call: Call) -> AgendaItem:
    return await minutes.add_action(call.app[POOL], compound_id=compound(call),
                                    meeting_id=meeting(call), item_id=item(call),
                                    data=call.body, who=call.who)


async def draft_minutes(call: Call) -> Minutes:
    return await minutes.draft(call.app[POOL], compound_id=compound(call),
                               meeting_id=meeting(call), who=call.who)


async def edit_minutes(call: Call) -> Minutes:
    return await minutes.draft(call.app[POOL], compound_id=compound(call),
                               meeting_id=meeting(call), who=call.who, text=call.body.text)


async def approve_minutes(call: Call) -> Minutes:
    return await minutes.approve(call.app[POOL], compound_id=compound(call),
                                 meeting_id=meeting(call), who=call.who)


async def publish_minutes(call: Call) -> Minutes:
    return await minutes.publish(call.app[POOL], compound_id=compound(call),
                                 meeting_id=meeting(call), days=call.body.notice_days,
                                 who=call.who)


async def read_minutes(call: Call) -> Minutes:
    return await minutes.read(call.app[POOL], compound_id=compound(call),
                              meeting_id=meeting(call), who=call.who)


async def calendar(call: Call) -> web.Response:
    text = await calendar_feed.feed(call.app[POOL], compound_id=compound(call))
    return web.Response(text=text, content_type="text/calendar", charset="utf-8")


async def create_feed(call: Call) -> CalendarFeedCreated:
    return await calendar_feed.create_feed(call.app[POOL], call.app[DIRECTORY_VIEW],
                                           who=call.who, data=call.body,
                                           origin=str(call.request.url.origin()))


async def list_feeds(call: Call) -> Page[CalendarFeed]:
    return await calendar_feed.list_feeds(call.app[POOL], who=call.who, query=call.query)


async def revoke_feed(call: Call) -> CalendarFeed:
    return await calendar_feed.revoke_feed(call.app[POOL], who=call.who,
                                           feed_id=call.uuid_param("feed_id", "日历订阅"))


async def personal_calendar(call: Call) -> web.Response:
    """No bearer token: the secret in the address is the credential (calendar apps send none)."""
    text = await calendar_feed.personal_feed(call.app[POOL], call.app[DIRECTORY_VIEW],
                                             secret=call.param("secret"))
    return web.Response(text=text, content_type="text/calendar", charset="utf-8",
                        headers={"Cache-Control": "private, max-age=300"})
