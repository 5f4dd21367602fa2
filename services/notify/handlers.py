"""HTTP views of the notify service: parse → use case → response; no SQL here."""

from __future__ import annotations

import uuid

from linli import problems
from linli.http import POOL, Call
from linli.pagination import Page
from services.notify import compound_templates, deliveries, direct, service
from services.notify.keys import CONFIG, SMS
from services.notify.models import (
    Delivery,
    Notice,
    Notification,
    Preferences,
    ReadAll,
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


async def read(call: Call) -> Notification:
    return await service.mark_read(call.app[POOL], person_id=_person(call),
                                   notification_id=call.uuid_param("notification_id", "通知"))


async def read_all(call: Call) -> ReadAll:
    return await service.mark_all_read(call.app[POOL], person_id=_person(call))


async def get_preferences(call: Call) -> Preferences:
    return await service.get_preferences(call.app[POOL], person_id=_person(call))


async def put_preferences(call: Call) -> Preferences:
    return await service.put_preferences(call.app[POOL], person_id=_person(call),
                                         compounds=call.who.compounds, data=call.body,
                                         allow_internal=call.app[CONFIG].allow_internal)


async def my_deliveries(call: Call) -> Page[Delivery]:
    return await deliveries.deliveries(call.app[POOL], person_id=_person(call), query=call.query)


async def notices(call: Call) -> Page[Notice]:
    return await service.notices(call.app[POOL], compound_id=_compound(call), query=call.query)


async def compound_deliveries(call: Call) -> Page[Delivery]:
    return await deliveries.deliveries(call.app[POOL], compound_id=_compound(call), query=call.query)


async def templates(call: Call) -> list[Template]:
    return await compound_templates.templates(call.app[POOL], compound_id=_compound(call))


async def put_template(call: Call) -> Template:
    return await compound_templates.put_template(call.app[POOL], compound_id=_compound(call),
                                                 kind=call.param("kind"), data=call.body,
                                                 by=call.who.subject)


async def reset_template(call: Call) -> Template:
    return await compound_templates.reset_template(call.app[POOL], compound_id=_compound(call),
                                                   kind=call.param("kind"))


async def send_message(call: Call) -> direct.Sent:
    person = str(call.uuid_param("person_id", "人员"))
    return await direct.send(call.app[POOL], call.app[SMS], person_id=person, data=call.body)
