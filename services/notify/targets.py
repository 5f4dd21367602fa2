"""Webhook targets are chosen by residents, so by default they may not point inside the
deployment (loopback, private, link-local, reserved addresses).

A check that reads the URL's text is not enough: `１２７.０.０.１`, `127。0。0。1` or `①②⑦.０.０.１`
are names to `ipaddress` but 127.0.0.1 once the URL library applies IDNA (UTS 46 folds other
digits and full stops), and `0x7f.1` is loopback to the system resolver. So the address is
checked where the connection gets it: the sender's connector checks every address a host
resolves to (an IP literal included) and connects only to those it checked, so a name that
later resolves inward (DNS rebinding) is refused too. Saving a target runs the same check.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp.abc import ResolveResult
from yarl import URL

NAT64 = ipaddress.ip_network("64:ff9b::/96")
RESOLVE_SECONDS = 5.0  # a name that does not resolve by then is refused when saved


class BlockedTarget(aiohttp.ClientError):
    """The webhook's address is inside the deployment, or it is no usable address at all."""


def is_internal(address: str) -> bool:
    """Loopback, private, link-local, reserved, multicast or unspecified, also when an IPv4
    address hides in IPv6 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64
                                   else None)
        if inner is not None:
            ip = inner
    return not ip.is_global or ip.is_multicast


def check_addresses(host: str, addresses: Sequence[str]) -> None:
    """Every address must be public: one inward address refuses the whole host."""
    if not addresses:
        raise BlockedTarget(f"目标地址 {host} 无法解析")
    if any(is_internal(a) for a in addresses):
        raise BlockedTarget(f"目标地址 {host} 属于内部网络, 不允许推送")


def normalise(url: str) -> tuple[str, int]:
    """The host and port as the HTTP client will use them (IDNA applied, digits folded)."""
    try:
        parsed = URL(url)
        host, port = parsed.raw_host, parsed.port
    except (ValueError, UnicodeError):
        raise BlockedTarget("目标地址不是有效的 URL") from None
    if parsed.scheme not in ("http", "https") or not host or port is None:
        raise BlockedTarget("目标地址须是 http 或 https URL")
    _legacy_numeric(host)
    return host, port


def _legacy_numeric(host: str) -> None:
    """`2130706433`, `0x7f.1` or `127.1` are IPv4 addresses to the system resolver: judged by
    the address they stand for, and refused either way (the URL must say what it means)."""
    try:
        packed = socket.inet_aton(host)
    except OSError:
        return
    try:
        ipaddress.IPv4Address(host)
        return  # the canonical dotted form
    except ValueError:
        pass
    check_addresses(host, [str(ipaddress.IPv4Address(packed))])
    raise BlockedTarget(f"目标地址 {host} 须写成规范的 IP 地址")


async def vet(url: str) -> None:
    """Resolve the target now and refuse it unless every address is public (when saved)."""
    host, port = normalise(url)
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, TimeoutError):
        raise BlockedTarget(f"目标地址 {host} 无法解析") from None
    check_addresses(host, [str(info[4][0]) for info in found])


class PublicOnlyConnector(aiohttp.TCPConnector):
    """Connects only to addresses it has checked: the addresses returned here are the ones
    the connection is made to, so there is no second lookup to race against."""

    async def _resolve_host(self, host: str, port: int,
                            traces: Sequence[Any] | None = None) -> list[ResolveResult]:
        found = await super()._resolve_host(host, port, traces)
        check_addresses(host, [r["host"] for r in found])
        return found


def session(*, allow_internal: bool) -> aiohttp.ClientSession:
    """The sender's HTTP session; internal targets only when the deployment allows them."""
    if allow_internal:
        return aiohttp.ClientSession()
    return aiohttp.ClientSession(connector=PublicOnlyConnector())
