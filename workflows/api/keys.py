"""The workflow API's typed application keys, in one place."""

from __future__ import annotations

from aiohttp import web
from temporalio.client import Client

TEMPORAL = web.AppKey("workflows.temporal", Client)
