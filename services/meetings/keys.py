"""The meetings service's typed application keys, in one place."""

from __future__ import annotations

from aiohttp import web

from linli.clients import ServiceClient

DIRECTORY = web.AppKey("meetings.directory", ServiceClient)
# the neighbourhood centre, where a meeting held at a centre venue books it
CENTRE = web.AppKey("meetings.centre", ServiceClient)
