"""The notify service: every party hears about what concerns them (inbox, notice board,
webhook deliveries), from the events of issues, meetings and the workflows."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from linli.app import periodic, service_app
from linli.clients import service_client
from linli.config import Settings
from linli.directory import Directory, PendingDirectory
from linli.http import NATS_CLIENT
from linli.pruning import PruneRule
from services.notify.consumers import subscriptions
from services.notify.digests import digest_once
from services.notify.direct import LogSms, Sms
from services.notify.keys import CONFIG, DIRECTORY, DIRECTORY_CLIENT, LIVE, PREFIX, SMS, VAULT
from services.notify.live import LiveConfig, close_streams, live_context
from services.notify.routes import ROUTES
from services.notify.sender import SenderConfig, sender_context
from services.notify.signals import LiveSignals
from services.notify.signals import subscriptions as signal_subscriptions
from services.notify.sms import DirectSms
from services.notify.vault import Vault

MIGRATIONS = Path(__file__).parent / "migrations"
# a person's inbox keeps what they have read for half a year; unread stays until read
READ_NOTIFICATIONS = PruneRule("notifications", "read_at IS NOT NULL AND read_at < $1",
                               dt.timedelta(days=180))


def _directory(directory: PendingDirectory) -> Callable[[web.Application], AsyncIterator[None]]:
    """The shared directory client for the consumers, which started before this context ran."""
    inner = service_client(DIRECTORY_CLIENT, caller="notify", target="directory")

    async def context(app: web.Application) -> AsyncIterator[None]:
        async for _ in inner(app):
            directory.set(Directory(app[DIRECTORY_CLIENT]))
            yield
        directory.set(None)

    return context


def _signals(live: LiveSignals) -> Callable[[web.Application], AsyncIterator[None]]:
    """The live signals go out on the service's NATS connection once it is there."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        live.nc = app[NATS_CLIENT]
        yield
        live.nc = None

    return context


def create_app(settings: Settings, *, sender: SenderConfig | None = None,
               prefix: str = "notify", live: LiveConfig | None = None,
               sms: Sms | None = None) -> web.Application:
    """`prefix` names the durable consumers (tests on shared NATS use their own)."""
    directory, signals = PendingDirectory(), LiveSignals()
    config = sender or SenderConfig.from_settings(settings, os.environ)
    live_config = live or LiveConfig()
    app = service_app(
        name="notify", settings=settings, routes=ROUTES, migrations=MIGRATIONS,
        subscriptions=[*subscriptions(directory, prefix=prefix),
                       *signal_subscriptions(signals, prefix=prefix)],
        contexts=[_directory(directory), _signals(signals), sender_context(config),
                  live_context(live_config),
                  periodic("notify-digests", digest_once, every=config.digest_seconds,
                           wait_first=True)],
        prune=[READ_NOTIFICATIONS],
    )
    app[DIRECTORY], app[PREFIX], app[CONFIG], app[LIVE] = directory, prefix, config, live_config
    # sign-in codes go through the provider too once one is configured (LINLI_NOTIFY_SMS_*)
    provider = config.sms.provider == "http" and config.sms.endpoint
    app[VAULT] = Vault.from_env(os.environ, fallback=settings.jwt_secret)
    app[SMS] = sms or (DirectSms(config.sms) if provider else LogSms())
    app.on_shutdown.append(close_streams)
    return app
