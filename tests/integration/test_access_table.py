"""Every mutating route states who may call it, and the service holds to its table: a caller
outside the declared access (a person with none of the roles, an app without the scopes) is
refused with 403 by the table itself, before the handler does any work."""

from __future__ import annotations

import importlib
import re
import uuid

import pytest

from linli.auth import ROLES
from linli.http import Route
from linli.registry import available_services
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
TEXT_PARAMS = {"code": "x", "kind": "x", "period": "2026-07"}


def _path(route: Route) -> str:
    return re.sub(r"{(\w+)}", lambda m: TEXT_PARAMS.get(m.group(1), str(uuid.uuid4())), route.path)


def _outsiders(route: Route, token: TokenFactory) -> list[str]:
    """Tokens that the route's access must refuse, for every compound."""
    access, everywhere = route.access, ["*"]
    found = [token(app="outsider", scopes=["outsider:nothing"], compounds=everywhere)]
    if not access.any_person:
        roles = [r for r in ROLES if r not in access.roles and r != "admin"]
        found.append(token(roles=roles, compounds=everywhere))
    return found


def _mutating(service: str) -> list[Route]:
    """The service's mutating API routes (the portal's pages have their own table, PAGES, with
    its session access: no bearer-token route to check there)."""
    routes: list[Route] = getattr(importlib.import_module(f"services.{service}.routes"), "ROUTES", [])
    return [r for r in routes if r.method in MUTATING and not r.access.public]


@pytest.mark.parametrize("service", available_services())
def test_every_mutating_route_states_its_roles_or_the_relation_checked(service: str) -> None:
    for route in _mutating(service):
        access = route.access
        assert not access.any_member, f"{route.method} {route.path} admits any caller"
        assert access.roles or access.scopes or access.any_person, \
            f"{route.method} {route.path} names no one"
        if access.any_person:
            assert access.note, f"{route.method} {route.path}: which person does the service check?"


@pytest.mark.parametrize("service", available_services())
async def test_a_caller_outside_the_table_is_refused_before_any_work(
        serve: AppFactory, token: TokenFactory, service: str) -> None:
    client = await serve(importlib.import_module(f"services.{service}.app").create_app)
    for route in _mutating(service):
        for outsider in _outsiders(route, token):
            r = await client.request(route.method, _path(route), json={}, headers=bearer(outsider))
            body = await assert_problem(r, 403, "forbidden")
            assert body["detail"].startswith("该操作需要以下角色之一"), (route.path, body)
