"""The neighbourhood centre (邻里中心): venues and bookings, activity plans per resident group,
activities with sign-ups and waiting lists, interest groups, the lending library."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from linli.app import service_app
from linli.config import Settings
from linli.directory import directory_context
from services.centre.consumers import SUBSCRIPTIONS
from services.centre.handlers import DIRECTORY, DIRECTORY_VIEW, KNOWN
from services.centre.routes import ROUTES
from services.centre.sweep import sweeper

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings) -> web.Application:
    app = service_app(
        name="centre", settings=settings, routes=ROUTES, migrations=MIGRATIONS,
        subscriptions=SUBSCRIPTIONS,
        contexts=[directory_context(DIRECTORY_VIEW, DIRECTORY, caller="centre"), sweeper()],
    )
    app[KNOWN] = set()
    return app
