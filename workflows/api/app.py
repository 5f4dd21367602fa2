"""The workflow HTTP API (port 8106): other apps start, query, signal, update and cancel workflows.

Built with the kernel's service_app, so it has /livez /readyz /metrics /openapi.json,
problem+json and bearer auth like every Linli service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from temporalio.client import Client

from linli.app import service_app
from linli.clients import service_client
from linli.config import Settings
from linli.http import SETTINGS
from workflows.api.keys import OWNERS, TEMPORAL
from workflows.api.routes import ROUTES


async def temporal_client(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    app[TEMPORAL] = await Client.connect(settings.temporal_address,
                                         namespace=settings.temporal_namespace)
    yield


def create_app(settings: Settings) -> web.Application:
    owners = [service_client(OWNERS[name], caller="workflows", target=name,
                             scopes=[f"{name}:read"]) for name in sorted(OWNERS)]
    return service_app(name="workflows", settings=settings, routes=ROUTES,
                       migrations=None,
                       contexts=[temporal_client, *owners])
