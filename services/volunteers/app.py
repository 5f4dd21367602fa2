"""The volunteers service: volunteers, skills, the service menu, orders, the service ledger
and recurring care."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from linli.app import service_app
from linli.clients import service_client
from linli.config import Settings
from services.volunteers.consumers import SUBSCRIPTIONS
from services.volunteers.handlers import DIRECTORY, KNOWN_UNITS, SEEDED
from services.volunteers.routes import ROUTES
from services.volunteers.sweep import sweeper

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings) -> web.Application:
    app = service_app(
        name="volunteers", settings=settings, routes=ROUTES, migrations=MIGRATIONS,
        subscriptions=SUBSCRIPTIONS,
        contexts=[service_client(DIRECTORY, caller="volunteers", target="directory"),
                  sweeper()],
    )
    app[SEEDED] = set()
    app[KNOWN_UNITS] = set()
    return app
