"""The directory service: compounds, units, owners, households, 1+3+N organisations, the roll."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from linli.app import service_app
from linli.config import Settings
from services.directory.consumers import SUBSCRIPTIONS
from services.directory.routes import ROUTES

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings) -> web.Application:
    return service_app(name="directory", settings=settings, routes=ROUTES,
                       migrations=MIGRATIONS, subscriptions=SUBSCRIPTIONS)
