"""Open311 POST requests.json: a form-encoded report authenticated by api_key.

api_key is a Linli bearer token: a resident's token reports as that resident; an app token
with scope issues:report or issues:manage reports on behalf of the person named in
first_name/last_name (recorded as such).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, ClassVar

import msgspec
from aiohttp import web

from linli import schema_rules as sr
from linli.auth import AuthError, Principal, verify_token
from linli.http import POOL, SETTINGS, Call, decode_as, json_response, read_form, refuse_unstorable
from services.issues import rules, service
from services.issues.keys import DIRECTORY
from services.issues.models import IssueIn
from services.issues.open311 import (
    REPORT_SCOPES,
    Created,
    categories,
    error,
    jurisdiction,
    spec_errors,
)

Text = Annotated[str, msgspec.Meta(max_length=2_000)]


class RequestForm(msgspec.Struct, kw_only=True):
    """The form of POST requests.json (GeoReport v2), as documented; the handler reads it.
    A location is needed: address_id, address_string, or lat with long."""

    __schema_rules__: ClassVar[list[dict[str, Any]]] = [
        {"anyOf": [sr.present("address_id"), sr.present("address_string"),
                   {"allOf": [sr.present("lat"), sr.present("long")]}]}]

    api_key: Text
    jurisdiction_id: Text
    service_code: Text
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=2_000)]
    address_string: Text | None = None
    address_id: Text | None = None
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    long: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    media_url: Text | None = None


def caller(call: Call, api_key: str | None, compound_id: uuid.UUID) -> Principal:
    """api_key → the Linli identity it names (403 when invalid or foreign)."""
    if not api_key:
        raise error(403, "api_key 必填 (Linli Bearer 令牌)")
    try:
        who = verify_token(call.app[SETTINGS].jwt_secret, api_key)
    except AuthError as exc:
        raise error(403, f"api_key 无效: {exc}") from None
    if not who.may_act_in(str(compound_id)):
        raise error(403, "api_key 无权在该小区上报")
    if who.is_app and not who.scopes & REPORT_SCOPES:
        raise error(403, "应用令牌需要 issues:report 范围")
    return who


def _location(form: Any) -> dict[str, Any]:
    """address_id (a unit), address_string (a common area or free text) or lat/long."""
    address_id, address = form.get("address_id"), (form.get("address_string") or "").strip()
    if address_id:
        try:
            return {"unit_id": str(uuid.UUID(address_id)), "location_note": address}
        except ValueError:
            raise error(400, "address_id 必须是专有部分 (房屋) id") from None
    by_label = {label: code for code, label in rules.COMMON_AREAS.items()}
    area = address if address in rules.COMMON_AREAS else by_label.get(address)
    if area:
        return {"area": area}
    if address:
        return {"area": "other", "location_note": address}
    if form.get("lat") and form.get("long"):
        return {"area": "other", "location_note": f"{form['lat']},{form['long']}"}
    raise error(400, "需要 address_id、address_string 或 lat/long 之一")


def _coordinates(form: Any) -> dict[str, float]:
    """Degrees on the earth: a NaN, an infinity or a latitude of 1000 is not stored."""
    found = {}
    for name, bound in (("lat", 90.0), ("long", 180.0)):
        if not form.get(name):
            continue
        try:
            value = float(form[name])
        except ValueError:
            raise error(400, f"{name} 必须是数字") from None
        if not -bound <= value <= bound:  # also false for NaN
            raise error(400, f"{name} 必须在 -{bound:g} 到 {bound:g} 之间")
        found[name] = value
    return found


@spec_errors
async def create_request(call: Call) -> web.Response:
    form = await read_form(call.request)  # 400 in words for one that cannot be read
    refuse_unstorable({k: v for k, v in form.items() if isinstance(v, str)}, what="表单")
    compound_id = await jurisdiction(call, _text(form, "jurisdiction_id"))
    who = caller(call, _text(form, "api_key"), compound_id)
    description = (_text(form, "description") or "").strip()
    if not _text(form, "service_code") or not description:
        raise error(400, "service_code 和 description 必填")
    contact = " ".join(t for t in (_text(form, "last_name"), _text(form, "first_name")) if t)
    body: dict[str, Any] = {
        "category": _text(form, "service_code"), "description": description,
        "title": description.splitlines()[0][:40], **_location(form),
        "photos": [form["media_url"]] if form.get("media_url") else [],
        "attributes": {k[10:-1]: str(v) for k, v in form.items()
                       if k.startswith("attribute[") and k.endswith("]")},
    }
    if who.is_app:
        body["on_behalf_of"] = {"name": contact or "Open311 客户端"}
    data = decode_as(body, IssueIn)
    token = uuid.uuid4()
    row = await service.report(call.app[POOL], call.app[DIRECTORY],
                               compound_id=compound_id, who=who, data=data, channel="open311",
                               extra={"token": token, **_coordinates(form)})
    category = (await categories(call, compound_id))[row["category"]]
    notice = f"已提交，{category.responsible_label}将在 {category.respond_hours} 小时内响应"
    created = Created(service_request_id=str(row["id"]), token=str(token), service_notice=notice)
    return json_response([created], 201)


def _text(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None
