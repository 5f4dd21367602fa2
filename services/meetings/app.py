"""The meetings service: proposals, consultation, statutory votes, cost sharing, meetings."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from linli.app import service_app
from linli.clients import service_client
from linli.config import Settings
from linli.directory import directory_context
from services.meetings.consumers import SUBSCRIPTIONS
from services.meetings.keys import CENTRE, DIRECTORY, DIRECTORY_VIEW
from services.meetings.routes import ROUTES
from services.meetings.sweep import sweeper

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings) -> web.Application:
    return service_app(name="meetings", settings=settings, routes=ROUTES,
                       migrations=MIGRATIONS, subscriptions=SUBSCRIPTIONS,
                       contexts=[directory_context(DIRECTORY_VIEW, DIRECTORY, caller="meetings"),
                                 service_client(CENTRE, caller="meetings", target="centre",
                                                scopes=["centre:manage"]),
                                 sweeper()])
