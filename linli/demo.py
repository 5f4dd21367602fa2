"""The living part of the demo: processes started through the running services' own APIs.

The demo data (`linli.demo` loaders) fills the schemas before anyone acts; then `linli up` runs
each `linli.demo.running` loader once the platform answers, so the first minute already shows
a process under way (a workflow in consultation, a cost shared and billed). Each acts as a real
demo person (`linli token --person demo`), so what it does carries that person's name, and
each is safe to run again: it looks for what it made before making it.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import aiohttp
import msgspec

from linli.auth import issue_token
from linli.config import Settings
from linli.registry import demo_cast


class DemoError(RuntimeError):
    """A call of the living demo was refused: names the call and the service's detail."""


class DemoActor:
    """Calls the running services over HTTP as the demo people."""

    def __init__(self, session: aiohttp.ClientSession, settings: Settings) -> None:
        self.session, self.settings = session, settings

    def token(self, compound: str, role: str) -> str:
        """A token of the demo person holding `role` in the demo compound named `compound`."""
        person = next(p for p in demo_cast() if p.compound == compound and p.role == role)
        return issue_token(self.settings.jwt_secret, subject=str(person.person_id),
                           roles=[person.role], compounds=[str(person.compound_id)],
                           name=person.name)

    def compound_id(self, compound: str) -> str:
        return str(next(p.compound_id for p in demo_cast() if p.compound == compound))

    async def call(self, method: str, service: str, path: str, token: str, *, json: Any = None,
                   csv: str | None = None, missing_ok: bool = False) -> Any:
        """The decoded answer; None for a 404 when `missing_ok`; else DemoError."""
        headers = {"Authorization": f"Bearer {token}"}
        body: bytes | None = None
        if json is not None:
            headers["Content-Type"], body = "application/json", msgspec.json.encode(json)
        elif csv is not None:
            headers["Content-Type"], body = "text/csv", csv.encode()
        url = self.settings.service_url(service) + path
        async with self.session.request(method, url, data=body, headers=headers) as response:
            raw = await response.read()
            if missing_ok and response.status == 404:
                return None
            if response.status >= 400:
                raise DemoError(f"{method} {service}{path}: {response.status} "
                                f"{raw.decode(errors='replace')[:300]}")
        return msgspec.json.decode(raw) if raw else None

    async def all_pages(self, service: str, path: str, token: str) -> list[dict[str, Any]]:
        """Every item of a cursor-paginated list."""
        items: list[dict[str, Any]] = []
        cursor = ""
        while True:
            sep = "&" if "?" in path else "?"
            page = await self.call("GET", service, f"{path}{sep}limit=200{cursor}", token)
            items += page["items"]
            if not page.get("next_cursor"):
                return items
            cursor = f"&cursor={urllib.parse.quote(page['next_cursor'])}"


async def start_running_demo(settings: Settings) -> list[str]:
    """Run every `linli.demo.running` loader against the running platform; what each started,
    one line per process, for the console."""
    from linli.registry import running_demo_loaders

    lines: list[str] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        actor = DemoActor(http, settings)
        for load in running_demo_loaders():
            lines += await load(actor)
    return lines
