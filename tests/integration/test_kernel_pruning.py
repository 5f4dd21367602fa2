"""Kernel tables are pruned in batches: sent outbox rows after a day, inbox rows after a
week, Idempotency-Keys after a day, read notifications after half a year; nothing still
needed goes (issue 9)."""

from __future__ import annotations

import uuid

import pytest

from linli import metrics, pruning
from linli.app import LOOPS
from linli.config import Settings
from services.notify.app import READ_NOTIFICATIONS
from services.notify.app import create_app as notify_app
from tests.conftest import AppFactory
from tests.integration.test_kernel_bus import Kernel
from tests.integration.test_kernel_bus import kernel as kernel_fixture  # noqa: F401


@pytest.fixture
def kernel(kernel_fixture: Kernel) -> Kernel:  # noqa: F811
    return kernel_fixture


def pruned(service: str, table: str) -> float:
    value: float = metrics.ROWS_PRUNED.labels(service, table)._value.get()
    return value


async def seed(kernel: Kernel) -> None:
    async with kernel.pool.acquire() as conn:
        for age, sent, n in [("2 days", True, 25), ("1 hour", True, 3), ("3 days", False, 2)]:
            for _ in range(n):
                await conn.execute(
                    "INSERT INTO outbox (id, subject, payload, created_at, sent_at)"
                    " VALUES ($1, 'linli.t.x.y', '\\x00', now() - $2::text::interval,"
                    " CASE WHEN $3 THEN now() - $2::text::interval END)",
                    uuid.uuid4(), age, sent)
        for age, n in [("8 days", 12), ("2 days", 4)]:
            for _ in range(n):
                await conn.execute(
                    "INSERT INTO inbox (consumer, event_id, event_type, processed_at)"
                    " VALUES ('c', $1, 't', now() - $2::text::interval)", uuid.uuid4(), age)
        for age, n in [("25 hours", 5), ("1 hour", 2)]:
            for _ in range(n):
                await conn.execute(
                    "INSERT INTO idempotency (scope, key, request_hash, status, body, created_at)"
                    " VALUES ('s', $1, 'h', 201, '{}', now() - $2::text::interval)", str(uuid.uuid4()), age)


async def test_old_kernel_rows_go_in_batches_and_the_rest_stays(kernel: Kernel) -> None:
    await seed(kernel)
    service = kernel.schema
    deleted = await pruning.prune(kernel.pool, service=service, batch=10)
    assert deleted == {"outbox": 25, "inbox": 12, "idempotency": 5}
    async with kernel.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 2
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 5  # unsent never goes
        assert await conn.fetchval("SELECT count(*) FROM inbox") == 4
        assert await conn.fetchval("SELECT count(*) FROM idempotency") == 2
    assert (pruned(service, "outbox"), pruned(service, "inbox")) == (25, 12)
    assert pruned(service, "idempotency") == 5
    assert await pruning.prune(kernel.pool, service=service) == {
        "outbox": 0, "inbox": 0, "idempotency": 0}


async def test_read_notifications_go_after_half_a_year_unread_ones_stay(kernel: Kernel) -> None:
    async with kernel.pool.acquire() as conn:
        await conn.execute("CREATE TABLE notifications (id serial, read_at timestamptz)")
        await conn.execute(
            "INSERT INTO notifications (read_at) VALUES (now() - interval '200 days'),"
            " (now() - interval '10 days'), (NULL), (NULL)")
    rule = READ_NOTIFICATIONS
    assert await pruning.prune_table(kernel.pool, service=kernel.schema, rule=rule) == 1
    async with kernel.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM notifications") == 3


async def test_every_service_runs_the_pruning_loop(settings: Settings, serve: AppFactory) -> None:
    client = await serve(notify_app)
    assert client.app is not None
    assert "notify-pruning" in client.app[LOOPS].states
