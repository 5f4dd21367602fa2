"""The volunteers service: volunteers, skills, the service menu, orders, the service ledger
and recurring care."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from linli.app import service_app
from linli.config import Settings
from linli.directory import directory_context
from services.volunteers.consumers import SUBSCRIPTIONS
from services.volunteers.keys import DIRECTORY, DIRECTORY_CLIENT
from services.volunteers.routes import ROUTES
from services.volunteers.sweep import sweeper

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings) -> web.Application:
    app = service_app(
        name="volunteers", settings=settings, routes=ROUTES, migrations=MIGRATIONS,
        subscriptions=SUBSCRIPTIONS,
        contexts=[directory_context(DIRECTORY, DIRECTORY_CLIENT, caller="volunteers"),
                  sweeper()],
    )
    return app
