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
use for `memberships_kept_seconds` (15 minutes) after they were read. A re-read gives up after
`memberships_timeout_seconds` (2 s: it sits on the page's path), and after one that failed the
session does not ask again for `memberships_retry_seconds` (15 s), so a directory that is down or
hangs costs a session one short wait now and then, not every page the whole client timeout,
and is not asked by every page while it recovers. After the 15 minutes the session stays, but
holds no compound until the directory answers again: a compound's page says it cannot confirm
the person belongs there (503), and the tokens the portal mints carry no compound.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import msgspec
from aiohttp import web

from linli import problems
from linli.auth import same_secret
from linli.http import POOL, read_form
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
    # a stylesheet or script needs no session: without this, each of a page's assets read the
    # session and, when due, asked the directory again, all at once with the page itself
    if token and not request.path.startswith("/static/"):
        session = await current_session(request, token)
        if session is not None:
            request[SESSION] = session
    if request.method == "POST" and not request.path.startswith("/live/"):
        await _check_csrf(request)
    return await handler(request)


async def current_session(request: web.Request, token: str) -> Session | None:
    """The live session of this cookie value, its memberships no older than a minute when the
    directory answers (None: no such session, or it expired or ended meanwhile)."""
    pool, cfg = request.app[POOL], request.app[CONFIG]
    session = await service.find_session(pool, token)
    if session is None:
        return None
    now = session.seen_at or dt.datetime.now(dt.UTC)
    age = now - session.memberships_read_at
    if age < dt.timedelta(seconds=cfg.memberships_fresh_seconds):
        return session
    tried = session.memberships_tried_at
    if tried is not None and now - tried < dt.timedelta(seconds=cfg.memberships_retry_seconds):
        # a re-read failed a moment ago: asking again on every page would make each one wait
        # on a directory that is down or silent, and pile requests onto it as it recovers
        return _kept(session, age, cfg.memberships_kept_seconds)  # logged when it failed
    try:
        who = await identity_now(request, str(session.person_id))
    except ApiError as exc:
        if exc.status != 404:
            session = await service.reread_failed(pool, session)
            return _kept(session, age, cfg.memberships_kept_seconds, exc.detail)
        # the directory no longer knows the person: they belong nowhere
        who = Identity(person_id=session.person_id, name=session.name, memberships=[])
    renewed = await service.renew_memberships(pool, session, who)
    # not stored: signed out or expired meanwhile, or a request of the same session that
    # asked later stored its answer first; the stored session is the one that holds
    return renewed if renewed is not None else await service.find_session(pool, token)


async def identity_now(request: web.Request, person_id: str) -> Identity:
    """The person as the directory says now, within memberships_timeout_seconds. The re-read sits on
    the path of every page of the session (and the signed calendar link asks the same): a
    directory that accepts the connection and never answers would otherwise hold the page for
    the portal's whole client timeout (15 s); past this shorter one the kept copy serves, like
    when the directory is down."""
    timeout = request.app[CONFIG].memberships_timeout_seconds
    try:
        async with asyncio.timeout(timeout):
            who: Identity = await app_api(request, "directory").get(
                f"/v1/identities/{person_id}", kind=Identity)
    except TimeoutError:
        raise ApiError(504, f"人员登记服务 {timeout:g} 秒内未应答") from None
    return who


def _kept(session: Session, age: dt.timedelta, kept_seconds: int,
          why: str | None = None) -> Session:
    """The directory did not answer: the last memberships while they are recent enough,
    else none (the session itself stays: nobody is signed out by the directory's outage).
    Logged with `why` only for the re-read that failed, not for each page of the pause after
    it: an outage then logs once per session per pause, not once per page."""
    kept = age < dt.timedelta(seconds=kept_seconds)
    if why is not None and kept:
        log.warning("memberships of %s not re-read (%s): the copy of %ds ago stays in use",
                    session.person_id, why, age.total_seconds())
    elif why is not None:
        log.warning("memberships of %s not re-read for %ds (%s): no compound until the "
                    "directory answers", session.person_id, age.total_seconds(), why)
    return session if kept else msgspec.structs.replace(session, memberships=[], unconfirmed=True)


async def _check_csrf(request: web.Request) -> None:
    sent = request.headers.get("X-CSRF-Token") or str((await read_form(request)).get("csrf", ""))
    session = request.get(SESSION)
    expected = session.csrf if session is not None else request.cookies.get(PRE_CSRF, "")
    if not expected or not same_secret(sent, expected):
        if session is None and request.cookies.get(COOKIE):
            raise to_sign_in(request)  # the session expired while the form was open
        raise problems.forbidden("表单已过期, 请返回刷新页面后重新提交")
