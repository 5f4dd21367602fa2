"""The notify service's typed application keys, in one place."""

from __future__ import annotations

from aiohttp import web

from linli.clients import ServiceClient
from services.notify.direct import Sms
from services.notify.fanout import Directory
from services.notify.sender import SenderConfig

DIRECTORY = web.AppKey("notify.directory", Directory)
PREFIX = web.AppKey("notify.durable_prefix", str)
DIRECTORY_CLIENT = web.AppKey("notify.directory_client", ServiceClient)
SMS = web.AppKey("notify.sms", Sms)
CONFIG = web.AppKey("notify.sender_config", SenderConfig)
