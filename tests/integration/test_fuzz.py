"""A bounded run of a fuzzer nobody here wrote (schemathesis) against every service's OpenAPI
document: the boundary values of every schema (coverage phase) and a few generated requests per
operation, valid and invalid, with a fixed seed, a valid staff token and a real compound. No
request may get a 5xx, and every answer must match what the document declares (status, content
type, schema). About two minutes for all seven services on two cores.

A deeper run outside CI takes more examples, another seed and the stateful phase from the
environment (the defaults are CI's), e.g. LINLI_FUZZ_EXAMPLES=40 LINLI_FUZZ_SEED=1
LINLI_FUZZ_PHASES=examples,coverage,fuzzing,stateful: about three minutes."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from linli.auth import ROLES
from linli.config import Settings
from services.centre.app import create_app as centre_app
from services.directory.app import create_app as directory_app
from services.issues.app import create_app as issues_app
from services.meetings.app import create_app as meetings_app
from services.notify.app import create_app as notify_app
from services.volunteers.app import create_app as volunteers_app
from tests.conftest import AppFactory, TokenFactory, bearer
from tests.integration.test_directory import post_ok
from workflows.api.app import create_app as workflows_app

SERVICES = {"directory": directory_app, "issues": issues_app, "meetings": meetings_app,
            "volunteers": volunteers_app, "notify": notify_app, "workflows": workflows_app,
            "centre": centre_app}
EXAMPLES = int(os.environ.get("LINLI_FUZZ_EXAMPLES", "4"))
SEED = int(os.environ.get("LINLI_FUZZ_SEED", "20261130"))
PHASES = os.environ.get("LINLI_FUZZ_PHASES", "examples,coverage,fuzzing")
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance"


async def _compound(directory: TestClient, token: TokenFactory) -> tuple[str, str, str]:
    """A compound with a building, a unit and its owner: (compound, unit, owner) ids."""
    street = bearer(token(roles=["street_office"], compounds=["*"]))
    cid = str((await post_ok(directory, "/v1/compounds", {
        "name": "模糊测试小区", "community": "万安社区", "street": "万安街道"}, street))["id"])
    b = await post_ok(directory, f"/v1/compounds/{cid}/buildings", {"name": "1号楼", "floors": 6},
                      street)
    unit = await post_ok(directory, f"/v1/compounds/{cid}/units", {
        "building_id": b["id"], "floor": 1, "number": "101", "area": "89.50"}, street)
    person = await post_ok(directory, "/v1/people", {"name": "陈志明"}, street)
    await post_ok(directory, f"/v1/compounds/{cid}/units/{unit['id']}/owners",
                  {"person_id": person["id"]}, street, 200)
    return cid, str(unit["id"]), str(person["id"])


async def _fuzz(url: str, config: Path, token: str) -> tuple[int, str]:
    schemathesis = str(Path(sys.executable).parent / "schemathesis")
    process = await asyncio.create_subprocess_exec(
        schemathesis, "--config-file", str(config), "run", url, "--checks", CHECKS,
        "--max-examples", str(EXAMPLES), "--seed", str(SEED), "--workers", "1",
        "--phases", PHASES, "--generation-database", "none",
        "--header", f"Authorization: Bearer {token}", "--no-color", "--request-timeout", "20",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        cwd=config.parent)  # its caches stay out of the work tree
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace")


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_no_generated_request_gets_a_server_error(
    service: str, serve: AppFactory, settings: Settings, token: TokenFactory, tmp_path: Path,
) -> None:
    directory = await serve(directory_app, port=settings.port("directory"))
    if service != "directory":
        await serve(SERVICES[service], port=settings.port(service))
    cid, unit, person = await _compound(directory, token)
    (tmp_path / "schemathesis.toml").write_text(
        f'[parameters]\ncompound_id = "{cid}"\njurisdiction_id = "{cid}"\nunit_id = "{unit}"\n'
        f'person_id = "{person}"\n', encoding="utf-8")
    staff = token(roles=sorted(set(ROLES) - {"admin"}), compounds=[cid], person=person)
    code, out = await _fuzz(f"{settings.service_url(service)}/openapi.json",
                            tmp_path / "schemathesis.toml", staff)
    assert code == 0, out[-20_000:]
    assert " generated, " in out and "failure" not in out, out[-5_000:]
