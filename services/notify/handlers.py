"""HTTP views of the notify service: parse → use case → response; no SQL here."""

from __future__ import annotations

import uuid

from aiohttp import web

from linli import problems
from linli.http import POOL, Call
from linli.pagination import Page
from services.notify import (
    channel_admin,
    compound_templates,
    deliveries,
    direct,
    live,
    matrix,
    messages,
    posts,
    service,
)
from services.notify.channel_models import (
    Bot,
    EmailSender,
    MessageSent,
    PersonChannel,
    Unsubscribed,
)
from services.notify.keys import CONFIG, DIRECTORY, SMS, VAULT
from services.notify.models import (
    Delivery,
    Notice,
    Notification,
    NotificationMatrix,
    Preferences,
    ReadAll,
    RotatedSecret,
    Template,
)


def _person(call: Call) -> str:
    """The caller's person id: the inbox and preferences belong to people, not apps."""
    person = call.who.person_id
    if not person:
        raise problems.forbidden("收件箱和通知偏好只属于个人, 应用令牌无权访问")
    return person


def _compound(call: Call) -> uuid.UUID:
    return call.uuid_param("compound_id", "小区")


async def inbox(call: Call) -> Page[Notification]:
    return await service.inbox(call.app[POOL], person_id=_person(call), query=call.query)


async def inbox_stream(call: Call) -> web.StreamResponse:
    return await live.stream(call.request, _person(call), service.board_compounds(call.who.compounds))


async def read(call: Call) -> Notification:
    person = _person(call)
    done = await service.mark_read(call.app[POOL], person_id=person,
                                   notification_id=call.uuid_param("notification_id", "通知"))
    await live.publish_unread(call.app, person)
    return done


async def read_all(call: Call) -> ReadAll:
    person = _person(call)
    done = await service.mark_all_read(call.app[POOL], person_id=person)
    await live.publish_unread(call.app, person)
    return done


async def get_preferences(call: Call) -> Preferences:
    return await service.get_preferences(call.app[POOL], person_id=_person(call))


async def put_preferences(call: Call) -> Preferences:
    return await service.put_preferences(call.app[POOL], person_id=_person(call),
                                         compounds=call.who.compounds, data=call.body,
                                         allow_internal=call.app[CONFIG].allow_internal,
                                         vault=call.app[VAULT])


async def my_deliveries(call: Call) -> Page[Delivery]:
    return await deliveries.deliveries(call.app[POOL], person_id=_person(call), query=call.query)


async def notices(call: Call) -> Page[Notice]:
    return await service.notices(call.app[POOL], compound_id=_compound(call), query=call.query)


async def post_notice(call: Call) -> Notice:
    return await posts.post(call.app[POOL], compound_id=_compound(call), who=call.who,
                            data=call.body)


async def compound_deliveries(call: Call) -> Page[Delivery]:
    return await deliveries.deliveries(call.app[POOL], compound_id=_compound(call), query=call.query)


async def templates(call: Call) -> Page[Template]:
    return await compound_templates.templates(call.app[POOL], compound_id=_compound(call))


async def put_template(call: Call) -> Template:
    return await compound_templates.put_template(call.app[POOL], compound_id=_compound(call),
                                                 kind=call.param("kind"), data=call.body,
                                                 by=call.who.subject)


async def reset_template(call: Call) -> Template:
    return await compound_templates.reset_template(call.app[POOL], compound_id=_compound(call),
                                                   kind=call.param("kind"))


async def my_channels(call: Call) -> Page[PersonChannel]:
    return await channel_admin.my_channels(call.app[POOL], person_id=_person(call))


async def put_channel(call: Call) -> PersonChannel:
    return await channel_admin.put_channel(call.app[POOL], person_id=_person(call),
                                           channel=call.param("channel"), data=call.body)


async def delete_channel(call: Call) -> Unsubscribed:
    return await channel_admin.delete_channel(call.app[POOL], person_id=_person(call),
                                              channel=call.param("channel"))


async def unsubscribe(call: Call) -> Unsubscribed:
    return await channel_admin.unsubscribe(call.app[POOL], token=call.param("token"))


async def bots(call: Call) -> Page[Bot]:
    return await channel_admin.bots(call.app[POOL], compound_id=_compound(call))


async def add_bot(call: Call) -> Bot:
    return await channel_admin.add_bot(call.app[POOL], compound_id=_compound(call), data=call.body,
                                       by=call.who.subject,
                                       allow_internal=call.app[CONFIG].allow_internal,
                                       vault=call.app[VAULT])


async def remove_bot(call: Call) -> web.Response:
    await channel_admin.remove_bot(call.app[POOL], compound_id=_compound(call),
                                   bot_id=call.uuid_param("bot_id", "群机器人"))
    return web.Response(status=204)


async def email_sender(call: Call) -> EmailSender:
    return await channel_admin.email_sender(call.app[POOL], compound_id=_compound(call))


async def put_email_sender(call: Call) -> EmailSender:
    return await channel_admin.put_email_sender(call.app[POOL], compound_id=_compound(call),
                                                data=call.body, by=call.who.subject)


async def send_message(call: Call) -> direct.Sent:
    person = str(call.uuid_param("person_id", "人员"))
    return await direct.send(call.app[POOL], call.app[SMS], call.app[DIRECTORY], who=call.who,
                             person_id=person, data=call.body)


async def rotate_secret(call: Call) -> RotatedSecret:
    return await service.rotate_secret(call.app[POOL], person_id=_person(call), data=call.body,
                                       vault=call.app[VAULT])


async def notification_matrix(call: Call) -> NotificationMatrix:
    return await matrix.matrix(call.app[POOL], person_id=_person(call))


def _acting_compound(call: Call) -> uuid.UUID:
    compound_id = _compound(call)
    call.require_compound(compound_id)
    return compound_id


async def send_to(call: Call) -> MessageSent:
    return await messages.send(call.app[POOL], call.app[DIRECTORY],
                               compound_id=_acting_compound(call), who=call.who, data=call.body)


async def broadcast(call: Call) -> MessageSent:
    return await messages.broadcast(call.app[POOL], compound_id=_acting_compound(call),
                                    who=call.who, data=call.body)
