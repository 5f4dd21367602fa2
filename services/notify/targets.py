"""Webhook targets are chosen by residents, so by default they may not point inside the
deployment (loopback, private, link-local addresses): the check runs on the resolved address
at connect time, so a name that later resolves inward (DNS rebinding) is refused too."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver


class BlockedTarget(aiohttp.ClientError):
    """The webhook's address is inside the deployment."""


def is_internal(host: str) -> bool:
    """Loopback, private, link-local, reserved or unspecified addresses."""
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return False  # a name: checked when it resolves
    return not address.is_global or address.is_multicast


def check_literal(url: str) -> None:
    """An IP literal never reaches the resolver, so it is checked here."""
    host = urlsplit(url).hostname or ""
    if is_internal(host):
        raise BlockedTarget(f"目标地址 {host} 属于内部网络, 不允许推送")


class PublicOnlyResolver(AbstractResolver):
    """Resolves as usual, then keeps only public addresses."""

    def __init__(self) -> None:
        self.inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        allowed = [r for r in found if not is_internal(r["host"])]
        if not allowed:
            raise BlockedTarget(f"目标地址 {host} 解析到内部网络, 不允许推送")
        return allowed

    async def close(self) -> None:
        await self.inner.close()


def session(*, allow_internal: bool) -> aiohttp.ClientSession:
    """The sender's HTTP session; internal targets only when the deployment allows them."""
    if allow_internal:
        return aiohttp.ClientSession()
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=PublicOnlyResolver()))
