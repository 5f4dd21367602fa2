"""Every list answers one page shape: no GET of any route table answers a bare array (except
Open311's, whose specification defines the array), a list that takes ?limit= pages with the
shared PageQuery (and answers a page), and OpenAPI documents the page and its 400."""

from __future__ import annotations

import importlib
import typing
from typing import Any

import pytest

from linli import openapi
from linli.http import Route
from linli.pagination import MAX_LIMIT, Page, PageQuery
from linli.registry import available_services


def _tables() -> dict[str, list[Route]]:
    tables = {name: getattr(importlib.import_module(f"services.{name}.routes"), "ROUTES", [])
              for name in available_services()}
    tables["workflows"] = importlib.import_module("workflows.api.routes").ROUTES
    return tables


def _is_page(kind: Any) -> bool:
    return typing.get_origin(kind) is Page or kind is Page


@pytest.mark.parametrize("service", sorted(_tables()))
def test_every_list_answers_a_page(service: str) -> None:
    for route in _tables()[service]:
        if route.method != "GET" or route.response is None:
            continue
        where = f"{service}: GET {route.path}"
        if typing.get_origin(route.response) is list:
            assert route.path.startswith("/open311/"), f"{where} answers a bare array"
        if isinstance(route.query, type) and issubclass(route.query, PageQuery):
            assert _is_page(route.response), f"{where} takes a limit but answers no page"


def test_openapi_documents_the_page_its_limit_and_its_400() -> None:
    routes = importlib.import_module("services.directory.routes").ROUTES
    doc = openapi.build("Linli directory API", "1.0.0", routes)
    listing = doc["paths"]["/v1/compounds/{compound_id}/households"]["get"]
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, MAX_LIMIT)
    assert "invalid-limit" in listing["responses"]["400"]["description"]
    ref = listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(page["properties"]) == {"items", "next_cursor"}
    assert page["properties"]["items"]["items"]["$ref"].endswith("/Household")
