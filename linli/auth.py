"""Bearer JWT: who is calling, in which roles, in which compounds (DESIGN.md §4)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import jwt

ALGORITHM = "HS256"
ALL_COMPOUNDS = "*"

# The roles of "1+3+N" and the platform; field names stay English, people read the labels.
ROLES: dict[str, str] = {
    "resident": "居民",
    "owner": "业主",
    "party_branch": "党组织",
    "community": "社区居委会",
    "owners_committee": "业主委员会",
    "property": "物业服务企业",
    "street_office": "街道办事处",
    "resident_rep": "居民代表",
    "partner_unit": "共建单位",
    "stationed_unit": "驻区单位",
    "volunteer": "志愿者",
    "officer": "计票监票人员",
    "admin": "平台管理员",
}
STAFF_ROLES = frozenset(
    {"party_branch", "community", "owners_committee", "property", "street_office", "admin"}
)


class AuthError(Exception):
    """The token is missing, malformed, expired or signed with another key."""


@dataclass(frozen=True)
class Principal:
    """The caller: a person with roles in compounds, or an app with scopes."""

    subject: str
    roles: frozenset[str] = frozenset()
    compounds: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    name: str = ""

    @property
    def is_app(self) -> bool:
        return self.subject.startswith("app:")

    @property
    def person_id(self) -> str:
        """The person's id (empty for apps)."""
        return "" if self.is_app else self.subject

    def has_role(self, *roles: str) -> bool:
        return "admin" in self.roles or any(r in self.roles for r in roles)

    def acts_as_staff(self, scope: str, roles: Iterable[str] = STAFF_ROLES) -> bool:
        """The one rule every service uses for "staff here": a person by any of `roles`
        (admin always), an app only by holding `scope` (an app token is never staff by
        being an app)."""
        if self.is_app:
            return scope in self.scopes
        return self.has_role(*roles)

    def may_act_in(self, compound_id: str) -> bool:
        """True when the caller may act in this compound."""
        return ALL_COMPOUNDS in self.compounds or str(compound_id) in self.compounds


@dataclass(frozen=True)
class Access:
    """Who may call an endpoint: any of these roles (people) or scopes (apps)."""

    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    public: bool = False
    any_member: bool = False
    note: str = field(default="", compare=False)

    def allows(self, who: Principal) -> bool:
        if self.public or self.any_member:
            return True
        if who.is_app:
            return bool(self.scopes & who.scopes)
        return who.has_role(*self.roles)

    def describe(self) -> str:
        if self.public:
            return "public"
        if self.any_member:
            return "any authenticated caller"
        parts = [f"roles: {', '.join(sorted(self.roles))}"] if self.roles else []
        if self.scopes:
            parts.append(f"app scopes: {', '.join(sorted(self.scopes))}")
        return "; ".join(parts)


PUBLIC = Access(public=True)
MEMBERS = Access(any_member=True)


def allow(*roles: str, scopes: Iterable[str] = ()) -> Access:
    """Access for these roles (and app scopes); unknown role names fail fast."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return Access(roles=frozenset(roles), scopes=frozenset(scopes))


def issue_token(
    secret: str, *, subject: str, roles: Iterable[str] = (), compounds: Iterable[str] = (),
    scopes: Iterable[str] = (), name: str = "", ttl_seconds: int = 30 * 24 * 3600,
) -> str:
    """Sign a token for a person (subject = person id) or an app (subject = app:<name>)."""
    now = int(time.time())
    claims = {
        "sub": subject,
        "roles": sorted(roles),
        "compounds": sorted(str(c) for c in compounds),
        "scopes": sorted(scopes),
        "name": name,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Principal:
    """Check the signature and expiry; raise AuthError with a readable reason."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub"]})
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("令牌已过期") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError(f"令牌无效: {exc}") from exc
    try:
        return Principal(
            subject=str(claims["sub"]),
            roles=frozenset(map(str, claims.get("roles", []))),
            compounds=frozenset(map(str, claims.get("compounds", []))),
            scopes=frozenset(map(str, claims.get("scopes", []))),
            name=str(claims.get("name", "")),
        )
    except TypeError as exc:
        raise AuthError("令牌声明格式错误") from exc
