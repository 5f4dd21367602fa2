"""The notify service's typed application keys, in one place.

The sender, the live inbox and the handlers all read these keys, so the types of the values
that those modules define are imported for the type checker only (no import cycle)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

from linli.clients import ServiceClient
from linli.directory import PendingDirectory
from services.notify.direct import Sms

if TYPE_CHECKING:
    from services.notify.live import LiveConfig
    from services.notify.sender import SenderConfig
    from services.notify.vault import Vault

DIRECTORY = web.AppKey("notify.directory", PendingDirectory)
PREFIX = web.AppKey("notify.durable_prefix", str)
DIRECTORY_CLIENT = web.AppKey("notify.directory_client", ServiceClient)
SMS = web.AppKey("notify.sms", Sms)
CONFIG: web.AppKey[SenderConfig] = web.AppKey("notify.sender_config")
# webhook and bot secrets, sealed at rest (services/notify/vault.py)
VAULT: web.AppKey[Vault] = web.AppKey("notify.vault")
# the live inbox's settings and the open streams' queues (services/notify/live.py)
LIVE: web.AppKey[LiveConfig] = web.AppKey("notify.live_config")
STREAMS: web.AppKey[set[asyncio.Queue[bytes | None]]] = web.AppKey("notify.live_streams")
