"""Use cases of the portal's own data: sign-in codes and sessions, one transaction each.

A code is six digits, kept only as an HMAC, valid for a few minutes, good once, and burnt after
five wrong tries; asking for codes and guessing them are limited per phone and per address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

import msgspec

from linli.db import Pool, transaction
from services.portal import store
from services.portal.models import Identity, PortalConfig, Session

MAX_TRIES_PER_CODE = 5


class SignInError(Exception):
    """Why a sign-in step was refused, in words for the person, next to a form field."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field, self.detail = field, detail


@dataclass(frozen=True)
class NewCode:
    person_id: uuid.UUID
    code: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def code_hash(secret: str, phone: str, code: str) -> str:
    return hmac.new(secret.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def check_code_limits(pool: Pool, cfg: PortalConfig, *, phone: str, address: str) -> None:
    since = _now() - dt.timedelta(minutes=cfg.window_minutes)
    async with pool.acquire() as conn:
        if await store.codes_since(conn, phone=phone, since=since) >= cfg.codes_per_phone:
            raise SignInError("phone", f"该手机号获取验证码过于频繁, 请 {cfg.window_minutes} 分钟后再试")
        if await store.codes_since(conn, address=address, since=since) >= cfg.codes_per_address:
            raise SignInError("phone", f"本网络获取验证码过于频繁, 请 {cfg.window_minutes} 分钟后再试")
        if await store.failures_since(conn, address=address, since=since) >= cfg.failures_per_address:
            raise SignInError("phone", f"本网络尝试次数过多, 请 {cfg.window_minutes} 分钟后再试")


async def new_code(pool: Pool, cfg: PortalConfig, secret: str, *, phone: str,
                   person_id: uuid.UUID, address: str) -> NewCode:
    """A fresh code for a known person (limits already checked); earlier codes stay valid
    until they expire, so a slow SMS does not strand the person."""
    code = f"{secrets.randbelow(10**6):06d}"
    async with transaction(pool) as conn:
        await store.insert_code(conn, id=uuid.uuid4(), phone=phone, person_id=person_id,
                                code_hash=code_hash(secret, phone, code), address=address,
                                expires_at=_now() + dt.timedelta(minutes=cfg.code_minutes))
    return NewCode(person_id=person_id, code=code)


async def unknown_phone(pool: Pool, *, phone: str, address: str) -> None:
    """A phone nobody registered counts against the address, like a wrong code."""
    async with transaction(pool) as conn:
        await store.insert_failure(conn, phone=phone, address=address)


async def verify_code(pool: Pool, cfg: PortalConfig, secret: str, *, phone: str, code: str,
                      address: str) -> uuid.UUID:
    """The person the code was sent to; a wrong, used or expired code raises SignInError.

    The failure is committed before the error is raised, so the limits see it.
    """
    since = _now() - dt.timedelta(minutes=cfg.window_minutes)
    wrong = "验证码错误或已过期, 请重新输入或重新获取"
    async with transaction(pool) as conn:
        if (await store.failures_since(conn, phone=phone, since=since) >= cfg.failures_per_phone
                or await store.failures_since(conn, address=address, since=since)
                >= cfg.failures_per_address):
            raise SignInError("code", f"尝试次数过多, 请 {cfg.window_minutes} 分钟后再试")
        row = await store.latest_code(conn, phone=phone)
        matches = row is not None and hmac.compare_digest(row["code_hash"],
                                                          code_hash(secret, phone, code))
        if row is not None:
            burnt = matches or row["attempts"] + 1 >= MAX_TRIES_PER_CODE
            await store.count_attempt(conn, id=row["id"], used=burnt)
        if not matches:
            await store.insert_failure(conn, phone=phone, address=address)
    if not matches or row is None:
        raise SignInError("code", wrong)
    return uuid.UUID(str(row["person_id"]))


async def open_session(pool: Pool, cfg: PortalConfig, identity: Identity) -> tuple[str, Session]:
    """A new session for the person; returns the cookie value (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    expires = _now() + dt.timedelta(minutes=cfg.session_minutes)
    async with transaction(pool) as conn:
        await store.insert_session(
            conn, token_hash=token_hash(token), person_id=identity.person_id, name=identity.name,
            memberships=msgspec.json.encode(identity.memberships).decode(), csrf=csrf,
            expires_at=expires)
    return token, Session(token_hash=token_hash(token), person_id=identity.person_id,
                          name=identity.name, memberships=identity.memberships, csrf=csrf,
                          expires_at=expires, memberships_read_at=_now())


async def find_session(pool: Pool, token: str) -> Session | None:
    async with pool.acquire() as conn:
        row = await store.live_session(conn, token_hash=token_hash(token))
    if row is None:
        return None
    data = dict(row)
    data["memberships"] = msgspec.json.decode(row["memberships"])
    return msgspec.convert(data, Session)


async def renew_memberships(pool: Pool, session: Session, identity: Identity) -> Session | None:
    """The session with the person's name and memberships as the directory says them now;
    None when they were not stored: the session ended meanwhile, or another request of it
    stored a newer answer (the caller reads the session again)."""
    asked_at = session.seen_at or _now()
    async with transaction(pool) as conn:
        read_at = await store.renew_memberships(
            conn, token_hash=session.token_hash, name=identity.name,
            memberships=msgspec.json.encode(identity.memberships).decode(), asked_at=asked_at)
    if read_at is None:
        return None
    return msgspec.structs.replace(session, name=identity.name,
                                   memberships=identity.memberships, memberships_read_at=read_at,
                                   memberships_tried_at=None, unconfirmed=False)


async def reread_failed(pool: Pool, session: Session) -> Session:
    """The session noted as having failed to re-read its memberships just now."""
    async with transaction(pool) as conn:
        tried_at = await store.reread_failed(conn, token_hash=session.token_hash)
    return msgspec.structs.replace(session, memberships_tried_at=tried_at or _now())


async def close_session(pool: Pool, token: str) -> None:
    async with transaction(pool) as conn:
        await store.delete_session(conn, token_hash=token_hash(token))


async def sweep(pool: Pool) -> None:
    """Forget sessions and codes a day after they expired."""
    async with transaction(pool) as conn:
        await store.delete_expired(conn)
