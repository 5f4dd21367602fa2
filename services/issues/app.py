"""The issues service: residents' problems from report to resolution, and Open311 GeoReport v2."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from linli.app import service_app
from linli.config import Settings
from linli.directory import directory_context
from services.issues import open311
from services.issues.consumers import SUBSCRIPTIONS
from services.issues.keys import DIRECTORY, DIRECTORY_CLIENT
from services.issues.routes import ROUTES
from services.issues.sweep import overdue_sweeper

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings) -> web.Application:
    app = service_app(
        name="issues", settings=settings, routes=ROUTES, migrations=MIGRATIONS,
        subscriptions=SUBSCRIPTIONS,
        contexts=[directory_context(DIRECTORY, DIRECTORY_CLIENT, caller="issues"),
                  overdue_sweeper()],
    )
    # registered last, so only paths no Open311 route matched reach it
    app.router.add_route("*", f"{open311.BASE}/{{tail:.*}}", open311.unknown_resource)
    return app
