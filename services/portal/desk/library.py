"""The centre's library (图书角) at the front desk: lend a book to a resident named by their
phone, take it back, the books out now with the overdue ones first (逾期 N 天), the catalogue
and putting a book on the shelf. Each action is one call to the centre service.

The reader is found by phone the way sign-in finds a person (the portal's own lookup), and only
among the people of this compound: staff read their phones anyway, and a phone registered
elsewhere or nowhere reads alike. Pages never show a phone."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from aiohttp import web

from linli.values import china_today
from services.portal.desk.centre import STAFF
from services.portal.desk.common import act, desk_of, has, refused, show
from services.portal.desk.forms import whole
from services.portal.handlers import PHONE, soft
from services.portal.models import Identity
from services.portal.web import Api, ApiError, api, app_api, form

NOT_HERE = "本小区没有登记这个手机号的居民, 请核对"


def _out(loans: list[dict[str, Any]], titles: dict[str, str], names: dict[str, str],
         today: dt.date) -> list[dict[str, Any]]:
    """Each loan with its book, its reader and how many days it is overdue (0: not yet)."""
    rows = []
    for loan in loans:
        late = (today - dt.date.fromisoformat(loan["due_on"])).days
        rows.append({**loan, "title": titles.get(loan["book_id"], "(已下架的书)"),
                     "reader": names.get(loan["person_id"], "居民"), "late": max(0, late)})
    return sorted(rows, key=lambda r: (-r["late"], r["due_on"]))


async def _on_loan(client: Api, base: str, staff: bool) -> list[dict[str, Any]] | None:
    """The books out now (None: the centre did not answer); none asked for others."""
    if not staff:
        return []
    loans: list[dict[str, Any]] | None = await soft(client.get_all(f"{base}/loans"))
    return loans


async def library(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid = str(m.compound_id)
    client = api(request, "centre", cid)
    base = f"/v1/compounds/{cid}"
    staff = has(m, *STAFF)  # the loans (who borrowed what) are for the centre's staff
    books, loans = await asyncio.gather(soft(client.get_all(f"{base}/books")),
                                        _on_loan(client, base, staff))
    if books is None:
        return show(request, "desk/library.html", {"absent": True})
    readers = sorted({loan["person_id"] for loan in loans or []})
    directory = api(request, "directory", cid)
    people = await asyncio.gather(*(soft(directory.get(f"/v1/people/{p}")) for p in readers))
    names = {p: found["name"] for p, found in zip(readers, people, strict=True) if found}
    titles = {b["id"]: b["title"] for b in books}
    out = _out(loans or [], titles, names, china_today())
    return show(request, "desk/library.html", {
        "absent": False, "books": books, "loans": out, "loans_unknown": loans is None,
        "lendable": sorted(books, key=lambda b: (b["available"] == 0, b["title"])),
        "overdue": sum(1 for r in out if r["late"]), "staff": staff})


async def _reader(request: web.Request, cid: str, phone: str) -> str | ApiError:
    """The person of this compound with this phone, or the refusal naming the phone field."""
    if not PHONE.match(phone):
        said = "请输入读者的 11 位手机号码"
        return ApiError(422, said, {"phone": said})
    try:
        who = await app_api(request, "directory").get(f"/v1/identities?phone={phone}",
                                                      kind=Identity)
    except ApiError as exc:
        if exc.status != 404:
            return ApiError(503, f"暂时查不到读者: {exc.detail}")
        return ApiError(422, NOT_HERE, {"phone": NOT_HERE})
    if not any(str(ms.compound_id) == cid for ms in who.memberships):
        return ApiError(422, NOT_HERE, {"phone": NOT_HERE})
    return str(who.person_id)


async def lend(request: web.Request) -> web.StreamResponse:
    """Lend the chosen book to the reader whose phone was given."""
    m = desk_of(request)
    cid = str(m.compound_id)
    data = await form(request)
    reader = await _reader(request, cid, str(data.get("phone", "")).strip())
    if isinstance(reader, ApiError):
        return await refused(request, "lend", reader, library)
    call = api(request, "centre", cid).post(
        f"/v1/compounds/{cid}/loans", {"book_id": str(data.get("book_id", "")), "person_id": reader})
    return await act(request, "lend", call, f"/desk/c/{cid}/centre/library", library, "lend")


async def give_back(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid, lid = str(m.compound_id), request.match_info["loan_id"]
    call = api(request, "centre", cid).post(f"/v1/compounds/{cid}/loans/{lid}/return", None)
    return await act(request, f"return:{lid}", call, f"/desk/c/{cid}/centre/library", library,
                     "return")


async def add_book(request: web.Request) -> web.StreamResponse:
    """Put a book on the shelf (title, author, copies, ISBN if it has one)."""
    m = desk_of(request)
    cid = str(m.compound_id)
    data = await form(request)
    body: dict[str, Any] = {"title": str(data.get("title", "")).strip(),
                            "author": str(data.get("author", "")).strip(),
                            "copies": whole(data.get("copies")),
                            "donated_by": str(data.get("donated_by", "")).strip()}
    if isbn := str(data.get("isbn", "")).strip().replace("-", ""):
        body["isbn"] = isbn
    call = api(request, "centre", cid).post(f"/v1/compounds/{cid}/books", body)
    return await act(request, "book", call, f"/desk/c/{cid}/centre/library", library, "book")
