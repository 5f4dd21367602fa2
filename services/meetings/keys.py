"""The meetings service's typed application keys, in one place."""

from __future__ import annotations

from aiohttp import web

from linli.clients import ServiceClient
from linli.directory import Directory

DIRECTORY = web.AppKey("meetings.directory", ServiceClient)
# the same client seen as linli.directory (whether the people a request names belong to a compound)
DIRECTORY_VIEW = web.AppKey("meetings.directory_view", Directory)
# the neighbourhood centre, where a meeting held at a centre venue books it
CENTRE = web.AppKey("meetings.centre", ServiceClient)
