"""The notify service: every party hears about what concerns them (inbox, notice board,
webhook deliveries), from the events of issues, meetings and the workflows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from linli.app import service_app
from linli.clients import service_client
from linli.config import Settings
from services.notify.consumers import subscriptions
from services.notify.direct import LogSms, Sms
from services.notify.fanout import Directory
from services.notify.keys import CONFIG, DIRECTORY, DIRECTORY_CLIENT, PREFIX, SMS
from services.notify.routes import ROUTES
from services.notify.sender import SenderConfig, sender_context

MIGRATIONS = Path(__file__).parent / "migrations"


def _directory(directory: Directory) -> Callable[[web.Application], AsyncIterator[None]]:
    """The directory client for the consumers, which started before this context ran."""
    inner = service_client(DIRECTORY_CLIENT, caller="notify", target="directory")

    async def context(app: web.Application) -> AsyncIterator[None]:
        async for _ in inner(app):
            directory.client = app[DIRECTORY_CLIENT]
            directory.ready.set()
            yield
        directory.ready.clear()
        directory.client = None

    return context


def create_app(settings: Settings, *, sender: SenderConfig | None = None,
               prefix: str = "notify", sms: Sms | None = None) -> web.Application:
    """`prefix` names the durable consumers (tests on shared NATS use their own)."""
    directory = Directory()
    config = sender or SenderConfig.from_settings(settings)
    app = service_app(
        name="notify", settings=settings, routes=ROUTES, migrations=MIGRATIONS,
        subscriptions=subscriptions(directory, prefix=prefix),
        contexts=[_directory(directory), sender_context(config)],
    )
    app[DIRECTORY], app[PREFIX], app[CONFIG] = directory, prefix, config
    app[SMS] = sms or LogSms()
    return app
