"""The issues service's typed application keys, in one place."""

from __future__ import annotations

from aiohttp import web

from linli.clients import ServiceClient
from linli.directory import Directory

DIRECTORY_CLIENT = web.AppKey("issues.directory_client", ServiceClient)
DIRECTORY = web.AppKey("issues.directory", Directory)
