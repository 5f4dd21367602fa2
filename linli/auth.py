"""Bearer JWT: who is calling, in which roles, in which compounds, and who counts as staff."""

from __future__ import annotations

import hmac
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
    """Who may call an endpoint: any of these roles (people) or scopes (apps).

    `any_person` admits every person whatever their roles, because the use case then checks a
    relation the token cannot carry (the reporter, the invitee, a member of the convener
    organisation); `note` names that relation, so the route table and OpenAPI tell the truth.
    Apps still need one of `scopes`."""

    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    public: bool = False
    any_member: bool = False
    any_person: bool = False
    note: str = field(default="", compare=False)

    def allows(self, who: Principal) -> bool:
        if self.public or self.any_member:
            return True
        if who.is_app:
            return bool(self.scopes & who.scopes)
        return self.any_person or who.has_role(*self.roles)

    def describe(self) -> str:
        if self.public:
            return "public"
        if self.any_member:
            return "any authenticated caller"
        if self.any_person:
            parts = [f"any person, checked by the service: {self.note}" if self.note
                     else "any person"]
        else:
            parts = [f"roles: {', '.join(sorted(self.roles))}"] if self.roles else []
            if self.note:
                parts.append(f"then checked by the service: {self.note}")
        parts.append(f"app scopes: {', '.join(sorted(self.scopes))}" if self.scopes
                     else "no app tokens")
        return "; ".join(parts)


PUBLIC = Access(public=True)
MEMBERS = Access(any_member=True)


def people(note: str, *, scopes: Iterable[str] = ()) -> Access:
    """Any person, then the use case checks `note` (whose record it is); apps only with `scopes`."""
    return Access(any_person=True, scopes=frozenset(scopes), note=note)


def allow(*roles: str, scopes: Iterable[str] = (), note: str = "") -> Access:
    """Access for these roles (and app scopes); unknown role names fail fast. `note` names what
    the use case checks on top (e.g. the issue's responsible party)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return Access(roles=frozenset(roles), scopes=frozenset(scopes), note=note)


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


# tokens whose signature this process checked: a token is sent with every request, and the
# HMAC of identical bytes under the same secret gives the same answer; the times (exp, nbf,
# iat) are checked again at every use, so an expired token is refused as before
_VERIFIED: dict[tuple[str, str], tuple[Principal, float, float]] = {}
MAX_VERIFIED = 10_000


def same_secret(sent: str, expected: str) -> bool:
    """Whether a secret someone sent (a CSRF token, a link's signature) is the expected one, in
    constant time. Compared as UTF-8 bytes: hmac.compare_digest refuses str with any
    non-ASCII character (TypeError), and what a client sends may hold one."""
    return hmac.compare_digest(sent.encode("utf-8", "surrogatepass"),
                               expected.encode("utf-8", "surrogatepass"))


def verify_token(secret: str, token: str) -> Principal:
    """Check the signature and expiry; raise AuthError with a readable reason."""
    known = _VERIFIED.get((secret, token))
    if known is not None and known[1] <= time.time() < known[2]:
        return known[0]
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub"]})
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("令牌已过期") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError(f"令牌无效: {exc}") from exc
    try:
        principal = Principal(
            subject=str(claims["sub"]),
            roles=frozenset(map(str, claims.get("roles", []))),
            compounds=frozenset(map(str, claims.get("compounds", []))),
            scopes=frozenset(map(str, claims.get("scopes", []))),
            name=str(claims.get("name", "")),
        )
    except TypeError as exc:
        raise AuthError("令牌声明格式错误") from exc
    _remember(secret, token, principal, claims)
    return principal


def _remember(secret: str, token: str, principal: Principal, claims: dict[str, object]) -> None:
    """Keep a checked token with the window PyJWT accepts it in: from nbf and iat (not before
    either) until exp (exclusive); a claim of an unexpected type is simply not remembered."""
    try:
        since = max(float(claims.get("nbf", 0)), float(claims.get("iat", 0)))  # type: ignore[arg-type]
        until = float(claims["exp"]) if "exp" in claims else float("inf")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return
    if len(_VERIFIED) >= MAX_VERIFIED:
        _VERIFIED.clear()
    _VERIFIED[(secret, token)] = (principal, since, until)
