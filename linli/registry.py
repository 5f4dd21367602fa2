"""Where the kernel finds the services: entry points the packages declare, never imports by name.

`pyproject.toml` is the one table: `linli.services` names each service's app module (with
`create_app` and `MIGRATIONS`), `linli.workflows` the workflow API and worker, `linli.demo` the
demo loaders, `linli.events` the modules whose event types make the catalogue. The kernel
imports a service only when one of these entries asks for it.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any, cast

from linli.config import SERVICE_PORTS


def _entries(group: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=group)}


def _start_order(name: str) -> tuple[int, str]:
    order = list(SERVICE_PORTS)
    return (order.index(name) if name in order else len(order), name)


def available_services() -> list[str]:
    """The services installed with this checkout, in start order (the directory first)."""
    return sorted(_entries("linli.services"), key=_start_order)


def service_module(name: str) -> ModuleType:
    """A service's app module: `create_app(settings)` and `MIGRATIONS`."""
    return importlib.import_module(_entries("linli.services")[name].value)


def has_workflows() -> bool:
    return {"api", "worker"} <= set(_entries("linli.workflows"))


def workflows_module(part: str) -> ModuleType:
    """`api` (the workflow HTTP API, with `create_app`) or `worker` (with `main`)."""
    return importlib.import_module(_entries("linli.workflows")[part].value)


DemoLoader = Callable[[str], Awaitable[int]]


def demo_loaders() -> list[DemoLoader]:
    """Each loader takes the database URL, prepares its schema, and returns how many compounds
    it made ready; loading again is safe."""
    return [cast(DemoLoader, ep.load()) for _, ep in
            sorted(_entries("linli.demo").items(), key=lambda item: _start_order(item[0]))]


async def load_demo(database_url: str) -> int:
    """Load the demo data through each service's own loader; safe to repeat. Answers how many
    compounds are ready."""
    return max([await load(database_url) for load in demo_loaders()], default=0)


def running_demo_loaders() -> list[Callable[[Any], Awaitable[list[str]]]]:
    """The `linli.demo.running` loaders: each takes a linli.demo.DemoActor, starts its part of
    the living demo through the running services' APIs (safe to repeat) and says what runs."""
    return [cast(Callable[[Any], Awaitable[list[str]]], ep.load()) for _, ep in
            sorted(_entries("linli.demo.running").items(),
                   key=lambda item: _start_order(item[0]))]


def event_modules() -> list[ModuleType]:
    """Import every module that declares event types, so the catalogue is complete."""
    modules: list[Any] = [importlib.import_module(ep.value)
                          for ep in _entries("linli.events").values()]
    return modules


def demo_cast() -> list[Any]:
    """The demo people a local token can be made for (`linli token --person demo`), as the
    directory's demo module loads them; empty without a directory."""
    entry = _entries("linli.demo").get("directory")
    if entry is None:
        return []
    return list(importlib.import_module(entry.module).demo_cast())
