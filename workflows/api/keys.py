"""The workflow API's typed application keys, in one place."""

from __future__ import annotations

from aiohttp import web
from temporalio.client import Client

from linli.clients import ServiceClient
from linli.directory import Directory

TEMPORAL = web.AppKey("workflows.temporal", Client)
# the services owning what workflows are about (a proposal, an issue): the API checks the subject
# exists there before starting (app scope <service>:read)
OWNERS = {name: web.AppKey(f"workflows.{name}", ServiceClient)
          for name in ("meetings", "issues", "directory")}
# the directory as the API asks it whether the people an update names belong to the compound
# (the committee's preparatory group), over the directory client above
DIRECTORY = web.AppKey("workflows.directory_view", Directory)
