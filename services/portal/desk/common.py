"""What every desk page shares: the compound of a staff member, the roles that may act, and
an action's refusal shown in place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from services.portal.desk.labels import in_own_words
from services.portal.handlers import compound_of
from services.portal.models import Membership
from services.portal.web import ApiError, read_form, redirect, render

# the roles a desk opens for; each page then shows only what the person's roles may do
DESK_ROLES = frozenset({"party_branch", "community", "owners_committee", "property",
                        "street_office", "admin", "volunteer", "officer"})
PARTIES = {"property": "物业服务企业", "owners_committee": "业主委员会", "community": "社区居委会",
           "street_office": "街道办事处", "party_branch": "党组织"}
REFUSAL = web.RequestKey("desk.refusal", dict)
PageFn = Callable[[web.Request], Awaitable[web.StreamResponse]]


def desk_of(request: web.Request) -> Membership:
    """The compound in the path, if the person works there; a resident finds no desk (404)."""
    m = compound_of(request)
    if not DESK_ROLES & set(m.roles):
        raise web.HTTPNotFound()
    return m


def has(m: Membership, *roles: str) -> bool:
    """Whether the person holds one of these roles here (an admin holds every one)."""
    return bool(set(m.roles) & {*roles, "admin"})


def base(request: web.Request) -> str:
    return f"/desk/c/{request.match_info['compound_id']}"


def show(request: web.Request, template: str, context: dict[str, Any],
         status: int = 200) -> web.Response:
    """A desk page: the compound, its roles, the refused action's detail and the done note."""
    m = desk_of(request)
    extra = {"compound": m, "desk": base(request), "roles": set(m.roles),
             "refusal": request.get(REFUSAL, {}), "ok": request.query.get("ok", "")}
    return render(request, template, {**context, **extra}, status=status)


async def act(request: web.Request, action: str, call: Awaitable[Any], back: str,
              page: PageFn, done: str) -> web.StreamResponse:
    """One call to the owning service: done → back to the page with a note; refused → the
    page again with the service's own words next to the action (and nothing changed)."""
    try:
        await call
    except ApiError as exc:
        return await refused(request, action, exc, page)
    raise redirect(f"{back}?ok={done}")


async def refused(request: web.Request, action: str, exc: ApiError,
                  page: PageFn) -> web.StreamResponse:
    """The page again with the service's refusal next to the action, its form filled in as it
    was sent (templates read it with _desk.html's kept/kept_on), the field the service named
    called by its label and marked (labels.py); a 404 stays a 404."""
    if exc.status == 404:
        raise exc
    sent = await read_form(request)
    typed = {name: [str(v) for v in sent.getall(name) if isinstance(v, str)] for name in sent}
    request[REFUSAL] = {"action": action, "detail": exc.detail, "fields": exc.fields,
                        "form": typed}
    response = await page(request)
    response.set_status(exc.status if exc.status in (403, 409, 422) else 422)
    if exc.fields and isinstance(response, web.Response) and response.text is not None:
        response.text = in_own_words(response.text, exc.detail, exc.fields)
    return response
