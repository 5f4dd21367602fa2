"""The portal's own types: its settings, a signed-in session, and what the directory says of a
person (msgspec Structs)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

import msgspec

from linli.config import DEVELOPMENT

log = logging.getLogger("linli.portal")


@dataclass(frozen=True)
class MediaSettings:
    """An S3-compatible bucket for the photos (AWS S3, MinIO, Ceph RGW, OSS/COS in S3 mode)."""

    bucket: str
    access_key: str
    secret_key: str
    endpoint: str | None = None  # LINLI_PORTAL_S3_ENDPOINT, e.g. https://minio.internal:9000
    region: str = "us-east-1"
    prefix: str = "media/"       # keys are <prefix><uuid>.jpg

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MediaSettings | None:
        bucket = env.get("LINLI_PORTAL_S3_BUCKET", "")
        if not bucket:
            return None  # the filesystem store under the data folder
        keys = env.get("LINLI_PORTAL_S3_ACCESS_KEY", ""), env.get("LINLI_PORTAL_S3_SECRET_KEY", "")
        if not all(keys):
            raise ValueError("设置了 LINLI_PORTAL_S3_BUCKET 时须同时设置"
                             " LINLI_PORTAL_S3_ACCESS_KEY 和 LINLI_PORTAL_S3_SECRET_KEY")
        return cls(bucket=bucket, access_key=keys[0], secret_key=keys[1],
                   endpoint=env.get("LINLI_PORTAL_S3_ENDPOINT") or None,
                   region=env.get("LINLI_PORTAL_S3_REGION", "us-east-1"),
                   prefix=env.get("LINLI_PORTAL_S3_PREFIX", "media/"))


@dataclass(frozen=True)
class PortalConfig:
    """Settings of the portal, read from the environment when the process starts."""

    # LINLI_PORTAL_DEV_LOGIN=1 under LINLI_ENV=development or test: the demo sign-in page
    # exists (one click signs in as anyone, so never where LINLI_ENV is unset or production)
    dev_login: bool = False
    session_minutes: int = 12 * 60     # LINLI_PORTAL_SESSION_MINUTES
    code_minutes: int = 10             # LINLI_PORTAL_CODE_MINUTES
    codes_per_phone: int = 3           # codes one phone may ask for in `window_minutes`
    codes_per_address: int = 10        # codes one address may ask for in `window_minutes`
    failures_per_phone: int = 5        # wrong codes for one phone in `window_minutes`
    failures_per_address: int = 20     # wrong codes from one address in `window_minutes`
    window_minutes: int = 15
    token_minutes: int = 10            # the JWT the portal mints for each call it makes
    # a session's memberships (compounds, roles, units) are read again from the directory
    # once older than this (LINLI_PORTAL_MEMBERSHIPS_FRESH_SECONDS): one who moved out stops
    # acting in that compound within about this long
    memberships_fresh_seconds: int = 60
    # while the directory cannot be reached, the last memberships read stay in use this long
    # (LINLI_PORTAL_MEMBERSHIPS_KEPT_SECONDS); after that the compound's pages say they cannot
    # confirm the person belongs there, and nobody is signed out
    memberships_kept_seconds: int = 15 * 60
    # the re-read sits on the request path: a directory that accepts connections but does not
    # answer must not hold every page for the portal's whole client timeout (15 s), so the
    # re-read gives up after this long (LINLI_PORTAL_MEMBERSHIPS_TIMEOUT_SECONDS) ...
    memberships_timeout_seconds: float = 2.0
    # ... and after one that failed, the session does not ask again for this long
    # (LINLI_PORTAL_MEMBERSHIPS_RETRY_SECONDS): its pages use the kept copy meanwhile
    memberships_retry_seconds: int = 15
    max_photo_bytes: int = 8 * 1024 * 1024
    media_dir: Path | None = None      # default: <LINLI_DATA_DIR>/media
    live_poll_seconds: int = 30        # the browser's slow look when the live stream fails
    # LINLI_TRUSTED_PROXIES: addresses or networks (comma separated) of the reverse proxies in
    # front of the portal; only their X-Forwarded-For is believed (sign-in limits by address)
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    media: MediaSettings | None = None  # LINLI_PORTAL_S3_*: an S3-compatible bucket for photos

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PortalConfig:
        base = cls()
        media = env.get("LINLI_PORTAL_MEDIA_DIR")
        return cls(
            dev_login=_dev_login(env),
            session_minutes=int(env.get("LINLI_PORTAL_SESSION_MINUTES", base.session_minutes)),
            code_minutes=int(env.get("LINLI_PORTAL_CODE_MINUTES", base.code_minutes)),
            live_poll_seconds=int(env.get("LINLI_PORTAL_LIVE_POLL_SECONDS",
                                          base.live_poll_seconds)),
            memberships_fresh_seconds=int(env.get("LINLI_PORTAL_MEMBERSHIPS_FRESH_SECONDS",
                                                  base.memberships_fresh_seconds)),
            memberships_kept_seconds=int(env.get("LINLI_PORTAL_MEMBERSHIPS_KEPT_SECONDS",
                                                 base.memberships_kept_seconds)),
            memberships_timeout_seconds=float(env.get(
                "LINLI_PORTAL_MEMBERSHIPS_TIMEOUT_SECONDS", base.memberships_timeout_seconds)),
            memberships_retry_seconds=int(env.get("LINLI_PORTAL_MEMBERSHIPS_RETRY_SECONDS",
                                                  base.memberships_retry_seconds)),
            max_photo_bytes=int(env.get("LINLI_PORTAL_MAX_PHOTO_BYTES", base.max_photo_bytes)),
            media_dir=Path(media) if media else None,
            trusted_proxies=trusted_networks(env.get("LINLI_TRUSTED_PROXIES", "")),
            media=MediaSettings.from_env(env),
        )


def _dev_login(env: Mapping[str, str]) -> bool:
    """The development sign-in only when asked for AND the environment says development: a
    copied LINLI_PORTAL_DEV_LOGIN=1 alone must not open every account on a real deployment."""
    if env.get("LINLI_PORTAL_DEV_LOGIN", "0") != "1":
        return False
    if env.get("LINLI_ENV", "production") in DEVELOPMENT:
        return True
    log.warning("LINLI_PORTAL_DEV_LOGIN=1 被忽略: 只有 LINLI_ENV 为 %s 时才开放开发登录 (当前 %s)",
                "/".join(sorted(DEVELOPMENT)), env.get("LINLI_ENV", "production"))
    return False


def trusted_networks(text: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """"10.0.0.0/8, 127.0.0.1" → the networks; a wrong entry stops the start with its name."""
    found = []
    for part in text.replace(";", ",").split(","):
        if part.strip():
            try:
                found.append(ip_network(part.strip(), strict=False))
            except ValueError:
                raise ValueError(f"LINLI_TRUSTED_PROXIES: {part.strip()!r} 不是 IP 地址或网段") from None
    return tuple(found)


class UnitRef(msgspec.Struct):
    id: uuid.UUID
    label: str
    relation: str


class Membership(msgspec.Struct):
    compound_id: uuid.UUID
    compound_name: str
    roles: list[str]
    units: list[UnitRef]


class Identity(msgspec.Struct):
    person_id: uuid.UUID
    name: str
    memberships: list[Membership]


class Session(msgspec.Struct):
    token_hash: str
    person_id: uuid.UUID
    name: str
    memberships: list[Membership]
    csrf: str
    expires_at: dt.datetime
    memberships_read_at: dt.datetime  # when the directory last said them (signed_in.py)
    # when a re-read last failed (the directory down or silent), None since the last success:
    # the session waits memberships_retry_seconds before asking again
    memberships_tried_at: dt.datetime | None = None
    # the database's clock when this copy was read (None: made here, at sign-in): the ages
    # above are measured on the database's clock, and a renewal stores the directory's answer
    # only over an older one (service.renew_memberships)
    seen_at: dt.datetime | None = None
    # the directory has not answered for longer than memberships_kept_seconds: `memberships`
    # is then empty and a compound's page says it cannot confirm the person belongs there
    unconfirmed: bool = False

    def membership(self, compound_id: str) -> Membership | None:
        return next((m for m in self.memberships if str(m.compound_id) == compound_id), None)
