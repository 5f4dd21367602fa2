"""The kernel's typed application and request keys, in one place (every module imports them
from here, so no two kernel modules need each other for a key)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from linli.config import Settings
from linli.db import Pool

if TYPE_CHECKING:
    from linli.http import Route

SETTINGS = web.AppKey("linli.settings", Settings)
SERVICE = web.AppKey("linli.service", str)
POOL = web.AppKey("linli.pool", Pool)
NATS_CLIENT = web.AppKey("linli.nats", NATS)
JETSTREAM = web.AppKey("linli.jetstream", JetStreamContext)
ROUTES = web.AppKey("linli.routes", list["Route"])
REQUEST_ID = web.RequestKey("linli.request_id", str)
