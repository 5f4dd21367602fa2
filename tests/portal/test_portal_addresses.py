"""The sign-in limits count the connecting address: X-Forwarded-For is believed only from the
proxies named in LINLI_TRUSTED_PROXIES, so a client cannot spread its guesses over made-up
addresses, and a real proxy does not lump every resident behind it into one address."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from linli.config import Settings
from services.portal.app import create_app
from services.portal.models import PortalConfig, trusted_networks
from services.portal.web import client_address
from tests.conftest import AppFactory

WRONG = "验证码错误或已过期"
TOO_MANY = "尝试次数过多"


def test_only_a_trusted_peer_may_name_the_client() -> None:
    proxies = trusted_networks("10.0.0.0/8, 127.0.0.1")
    assert client_address("198.51.100.4", ["203.0.113.7"], proxies) == "198.51.100.4"
    assert client_address("127.0.0.1", ["203.0.113.7"], proxies) == "203.0.113.7"
    # the client wrote the first entry itself; our proxies appended the rest: read from the right
    assert client_address("10.1.2.3", ["6.6.6.6, 203.0.113.7, 10.9.9.9"], proxies) == "203.0.113.7"
    assert client_address("127.0.0.1", ["6.6.6.6", "203.0.113.8"], proxies) == "203.0.113.8"
    assert client_address("127.0.0.1", [], proxies) == "127.0.0.1"
    assert client_address("127.0.0.1", ["not-an-address"], proxies) == "127.0.0.1"
    assert client_address("::1", ["2001:db8::1"], trusted_networks("::1")) == "2001:db8::1"
    assert client_address("127.0.0.1", ["203.0.113.7"], ()) == "127.0.0.1"
    with pytest.raises(ValueError, match="LINLI_TRUSTED_PROXIES"):
        trusted_networks("10.0.0.0/8, proxy.local")


async def _guess(client: TestClient, forwarded: str) -> str:
    """One wrong code for a fresh phone (so only the address limit can refuse it)."""
    page = await (await client.get("/sign-in")).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    r = await client.post("/sign-in/code", headers={"X-Forwarded-For": forwarded},
                          data={"csrf": csrf.group(1), "phone": phone, "code": "000000"})
    assert r.status == 422
    return await r.text()


async def _failures(settings: Settings, address: str) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=15)
        return int(await conn.fetchval("SELECT count(*) FROM portal.sign_in_failures"
                                       " WHERE address = $1 AND at > $2", address, since))
    finally:
        await conn.close()


async def test_behind_a_trusted_proxy_each_resident_is_limited_by_their_own_address(
    serve: AppFactory, settings: Settings
) -> None:
    config = PortalConfig(trusted_proxies=trusted_networks("127.0.0.1"), failures_per_address=3)
    client = await serve(lambda s: create_app(s, config=config))
    guesser = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    neighbour = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    for _ in range(3):
        assert WRONG in await _guess(client, guesser)
    assert TOO_MANY in await _guess(client, guesser)  # this address has used its tries
    assert WRONG in await _guess(client, neighbour)  # the neighbour behind the proxy has theirs
    assert await _failures(settings, guesser) == 3
    assert await _failures(settings, neighbour) == 1


async def test_a_made_up_forwarded_address_from_an_untrusted_peer_counts_against_the_peer(
    serve: AppFactory, settings: Settings
) -> None:
    config = PortalConfig(trusted_proxies=trusted_networks("10.0.0.0/8"), failures_per_address=10**6)
    client = await serve(lambda s: create_app(s, config=config))
    made_up = [f"192.0.2.{uuid.uuid4().int % 250 + 1}" for _ in range(3)]
    before = await _failures(settings, "127.0.0.1")
    for forged in made_up:
        assert WRONG in await _guess(client, forged)
    assert await _failures(settings, "127.0.0.1") == before + 3
    for forged in made_up:
        assert await _failures(settings, forged) == 0
