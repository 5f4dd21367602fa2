"""The workflow HTTP API (port 8106): other apps start, query, signal, update and cancel workflows.

Built with the kernel's service_app, so it has /livez /readyz /metrics /openapi.json,
problem+json and bearer auth like every Linli service.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

from aiohttp import web
from temporalio.client import Client
from temporalio.service import RetryConfig

from linli.app import service_app
from linli.clients import service_client
from linli.config import Settings
from linli.directory import Directory
from linli.http import SETTINGS
from workflows.api.keys import DIRECTORY, OWNERS, TEMPORAL
from workflows.api.outage import temporal_outage
from workflows.api.routes import ROUTES

# A person waits for the answer: a short retry rides out a blip, an outage answers 503 within
# about two seconds (the SDK's default retries for ten).
API_RETRIES = RetryConfig(initial_interval_millis=100, max_interval_millis=1000,
                          max_elapsed_time_millis=2000, max_retries=4)


async def temporal_client(app: web.Application) -> AsyncIterator[None]:
    """Connects at the first call (lazy): the API starts and answers 503 while Temporal is
    away, and reconnects by itself when it is back."""
    settings = app[SETTINGS]
    app[TEMPORAL] = await Client.connect(settings.temporal_address,
                                         namespace=settings.temporal_namespace, lazy=True,
                                         retry_config=API_RETRIES,
                                         connect_timeout=dt.timedelta(seconds=3))
    yield


async def directory_view(app: web.Application) -> AsyncIterator[None]:
    """app[DIRECTORY]: the members lookup over the directory client (after its context)."""
    app[DIRECTORY] = Directory(app[OWNERS["directory"]])
    yield


def create_app(settings: Settings) -> web.Application:
    owners = [service_client(OWNERS[name], caller="workflows", target=name,
                             scopes=[f"{name}:read"]) for name in sorted(OWNERS)]
    app = service_app(name="workflows", settings=settings, routes=ROUTES,
                      migrations=None,
                      contexts=[temporal_client, *owners, directory_view])
    app.middlewares.append(temporal_outage)  # inside problem_json, which renders its 503
    return app
