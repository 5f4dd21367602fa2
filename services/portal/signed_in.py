"""The session of the cookie on every request, with the person's memberships kept fresh from
the directory, and the CSRF check of every form post.

The portal reads a person's memberships (compounds, roles, units) from the directory at sign-in
and mints every service call's token from them, so a resident who moved out, an owner whose
ownership was removed or a member whose role ended would keep acting in that compound until the
session expired (12 h). Each session therefore reads them again once the copy is older than
`memberships_fresh_seconds` (a minute): the next request after that, or the live stream's next
look, asks `GET /v1/identities/{person_id}` and stores the answer.

Why a re-read and not the directory's events: the portal consumes no events and keeps no index
of sessions by person or compound; `linli.directory.household.changed` and
`unit.owners_changed` carry who is there now, not who left, and a role that ends on a date
(`ends_on`) publishes nothing on that day. The identity read is the one place that already
answers every cause (household, ownership, role on China's today) the way sign-in does, costs
one read per active session per minute, and holds in every replica without a consumer.

While the directory cannot be reached, nobody is signed out: the last memberships read stay in
use for `memberships_kept_seconds` (15 minutes) after they were read, and the portal keeps
asking on each request. After that the session stays, but holds no compound until the directory
answers again: a compound's page says it cannot confirm the person belongs there (503), and the
tokens the portal mints carry no compound.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

import msgspec
from aiohttp import web

from linli import problems
from linli.http import POOL
from services.portal import service
from services.portal.models import Identity, Session
from services.portal.web import (
    CONFIG,
    COOKIE,
    PRE_CSRF,
    SESSION,
    ApiError,
    PageHandler,
    app_api,
    to_sign_in,
)

log = logging.getLogger("linli.portal")


@web.middleware
async def sessions(request: web.Request, handler: PageHandler) -> web.StreamResponse:
    """Attach the session of the cookie (memberships fresh); check the CSRF token of every
    form post."""
    token = request.cookies.get(COOKIE)
    if token:
        session = await current_session(request, token)
        if session is not None:
            request[SESSION] = session
    if request.method == "POST" and not request.path.startswith("/live/"):
        await _check_csrf(request)
    return await handler(request)


async def current_session(request: web.Request, token: str) -> Session | None:
    """The live session of this cookie value, its memberships no older than a minute when the
    directory answers (None: no such session, or it expired)."""
    session = await service.find_session(request.app[POOL], token)
    if session is None:
        return None
    cfg = request.app[CONFIG]
    age = dt.datetime.now(dt.UTC) - session.memberships_read_at
    if age < dt.timedelta(seconds=cfg.memberships_fresh_seconds):
        return session
    try:
        who = await app_api(request, "directory").get(
            f"/v1/identities/{session.person_id}", kind=Identity)
    except ApiError as exc:
        if exc.status != 404:
            return _kept(session, age, cfg.memberships_kept_seconds, exc.detail)
        # the directory no longer knows the person: they belong nowhere
        who = Identity(person_id=session.person_id, name=session.name, memberships=[])
    return await service.renew_memberships(request.app[POOL], session, who)


def _kept(session: Session, age: dt.timedelta, kept_seconds: int, why: str) -> Session:
    """The directory did not answer: the last memberships while they are recent enough,
    else none (the session itself stays: nobody is signed out by the directory's outage)."""
    if age < dt.timedelta(seconds=kept_seconds):
        log.warning("memberships of %s not re-read (%s): the copy of %ds ago stays in use",
                    session.person_id, why, age.total_seconds())
        return session
    log.warning("memberships of %s not re-read for %ds (%s): no compound until the directory "
                "answers", session.person_id, age.total_seconds(), why)
    return msgspec.structs.replace(session, memberships=[], unconfirmed=True)


async def _check_csrf(request: web.Request) -> None:
    sent = request.headers.get("X-CSRF-Token") or str((await request.post()).get("csrf", ""))
    session = request.get(SESSION)
    expected = session.csrf if session is not None else request.cookies.get(PRE_CSRF, "")
    if not expected or not secrets.compare_digest(sent, expected):
        if session is None and request.cookies.get(COOKIE):
            raise to_sign_in(request)  # the session expired while the form was open
        raise problems.forbidden("表单已过期, 请返回刷新页面后重新提交")
