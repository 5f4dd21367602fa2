"""The README as a newcomer follows it: `make run` on a fresh data directory (`linli up` with
the demo, every port free), then each example script under docs/examples/ run as written, its
answers checked; the README shows each script verbatim; the living demo (a renovation workflow
in consultation, the pump's cost billed) is there from the start, and loading it again adds
nothing."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from linli.auth import issue_token
from linli.config import DEV_SECRET, load_settings
from linli.demo import start_running_demo
from linli.registry import demo_cast
from tests.e2e.test_platform_up import platform_env, wait_for_line

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"


@dataclass
class Newcomer:
    env: dict[str, str]
    printed: str

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.env[f'LINLI_{service.upper()}_PORT']}"

    def run(self, script: str) -> list[Any]:
        """Run one example from the repository's root; every line it prints is a JSON answer
        (what `linli token` says of the person goes to stderr)."""
        return [json.loads(line) for line in self.output(script).splitlines() if line.strip()]

    def output(self, script: str) -> str:
        done = subprocess.run(["bash", str(EXAMPLES / script)], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, f"{script}: {done.stdout}\n{done.stderr}"
        return done.stdout

    def token(self, compound: str, role: str) -> str:
        person = next(p for p in demo_cast() if p.compound == compound and p.role == role)
        return issue_token(DEV_SECRET, subject=str(person.person_id), roles=[role],
                           compounds=[str(person.compound_id)])

    def get(self, service: str, path: str, token: str) -> Any:
        done = subprocess.run(["curl", "-sS", "--fail-with-body", "-H",
                               f"Authorization: Bearer {token}", self.url(service) + path],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, f"GET {service}{path}: {done.stdout} {done.stderr}"
        return json.loads(done.stdout)


@pytest.fixture(scope="module")
def newcomer() -> Iterator[Newcomer]:
    # not tmp_path: other checkouts' pytest sessions prune /tmp/pytest-of-<user>/ as they start
    data_dir = Path(tempfile.mkdtemp(prefix="linli-readme-"))
    env = platform_env(data_dir)
    env["LINLI"] = f"{sys.executable} -m linli.cli"  # this interpreter's `linli`
    process = subprocess.Popen([sys.executable, "-m", "linli.cli", "up"], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        printed = "".join(wait_for_line(process, "Ctrl-C", timeout=300))
        yield Newcomer(env, printed)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=90)
        shutil.rmtree(data_dir, ignore_errors=True)


def test_the_readme_shows_every_example_as_it_is_run() -> None:
    readme = (ROOT / "README.md").read_text()
    scripts = sorted(EXAMPLES.glob("*.sh"))
    assert {s.name for s in scripts} >= {"env.sh", "directory.sh", "issues.sh", "costs.sh",
                                         "workflow.sh", "calendar.sh"}
    for script in scripts:
        text = script.read_text()
        shown = text.split("\n", 1)[1] if text.startswith("#!") else text
        assert f"```sh\n{shown}```\n" in readme, f"README does not show {script.name} as written"
    # no other request in the README: every block that calls a service is one of the scripts
    blocks = re.findall(r"```sh\n(.*?)```\n", readme, flags=re.S)
    shown_scripts = {s.read_text().split("\n", 1)[1] for s in scripts if s.name != "env.sh"}
    for block in blocks:
        if "curl" in block:
            assert block in shown_scripts, f"an untested request in the README:\n{block}"


def test_directory_example(newcomer: Newcomer) -> None:
    compounds, roll, imported = newcomer.run("directory.sh")
    assert [c["name"] for c in compounds["items"]] == ["阳光花园"]
    assert roll["compound_id"] == compounds["items"][0]["id"] and roll["total_headcount"] > 0
    assert sum(e["headcount"] for e in roll["entries"]) == roll["total_headcount"]
    assert imported == {"buildings_created": 1, "units_created": 4, "people_created": 4,
                        "ownerships_created": 4}  # docs/examples/units.csv, owners and all


def test_issues_example(newcomer: Newcomer) -> None:
    services, lift, [request], similar = newcomer.run("issues.sh")  # the POST's id is $SRID
    assert "lift" in {s["service_code"] for s in services}
    assert [a["code"] for a in lift["attributes"] if a["required"]] == ["trapped"]
    assert (request["status"], request["service_code"], request["address"]) == ("open", "lift", "电梯")
    assert request["description"] == "3号楼电梯停在5楼不动了"
    assert request["service_request_id"] in {s["id"] for s in similar["items"]}


def test_costs_example(newcomer: Newcomer) -> None:
    imported, compared = newcomer.run("costs.sh")
    assert (imported["readings"], imported["periods"]) == (12, ["2026-11"])
    assert compared["totals"] == {"按用水量": 41200, "面积用量各半": 41200}
    assert len(compared["rows"]) == 12  # floors 4 to 6 of both buildings: those the pump serves
    for plan in ("按用水量", "面积用量各半"):
        assert sum(r["amounts"][plan] for r in compared["rows"]) == 41200
    empty = next(r for r in compared["rows"] if r["label"] == "1号楼 501")  # used no water
    assert empty["amounts"]["按用水量"] == 0 and empty["amounts"]["面积用量各半"] > 0


def test_workflow_example(newcomer: Newcomer) -> None:
    started, state, revised, extended, cancelled = newcomer.run("workflow.sh")
    assert started["created"] is True and started["status"] == "running"
    assert state["workflow_id"] == started["workflow_id"]
    assert state["state"]["step"] == "consultation"
    assert revised == {"workflow_id": started["workflow_id"], "update": "revise", "result": 2}
    assert extended["update"] == "extend_consultation"
    assert cancelled["state"]["cancel_reason"] == "业主大会决定暂缓"
    secretary = next(p for p in demo_cast() if p.compound == "阳光花园" and p.role == "party_branch")
    assert cancelled["state"]["cancelled_by"] == str(secretary.person_id)  # the token's person


def test_calendar_example(newcomer: Newcomer) -> None:
    """The feed is fetched as a calendar app does (no token) and is gone once revoked."""
    out = newcomer.output("calendar.sh")
    head, rest = out.split("BEGIN:VCALENDAR", 1)
    ics, tail = rest.split("END:VCALENDAR", 1)
    meeting, feed = (json.loads(line) for line in head.splitlines() if line.strip())
    revoked, status = [line for line in tail.splitlines() if line.strip()]
    assert meeting["kind_label"] == "党群议事会"
    assert feed["url"] == newcomer.url("meetings") + feed["path"]
    unfolded = re.sub(r"\r?\n ", "", ics)  # lines folded at 75 octets (text mode reads CRLF as \n)
    assert f"UID:{meeting['id']}@linli" in unfolded
    assert "SUMMARY:党群议事会: 顶楼隔热改造议事会" in unfolded and "DTSTART:20270305T113000Z" in unfolded
    assert "X-WR-CALNAME:我的邻里会议" in unfolded
    assert json.loads(revoked)["revoked_at"] and status == "410"


def _demo_state(newcomer: Newcomer) -> dict[str, Any]:
    sun = next(p.compound_id for p in demo_cast() if p.compound == "阳光花园")
    nan = next(p.compound_id for p in demo_cast() if p.compound == "南山归侨安置小区")
    branch = newcomer.token("阳光花园", "party_branch")
    keeper = newcomer.token("南山归侨安置小区", "property")
    proposals = newcomer.get("meetings", f"/v1/compounds/{sun}/proposals?limit=200", branch)["items"]
    renovations = [p for p in proposals if p["title"] == "阳光花园顶楼隔热及平改坡改造"]
    costs = [c for c in newcomer.get("meetings", f"/v1/compounds/{nan}/costs?limit=200",
                                     keeper)["items"] if c["name"] == "二次供水加压泵电费"]
    workflows = [newcomer.get("workflows", f"/v1/workflows/proposal-{p['id']}", branch)
                 for p in renovations]
    k = f"/v1/compounds/{nan}/costs/{costs[0]['id']}" if costs else ""
    return {"renovations": renovations, "workflows": workflows, "costs": costs,
            "plans": newcomer.get("meetings", f"{k}/plans", keeper)["items"] if k else [],
            "bills": newcomer.get("meetings", f"{k}/bills", keeper)["items"] if k else [],
            "notices": newcomer.get("notify", f"/v1/compounds/{nan}/notices", keeper)["items"]}


def test_the_demo_runs_a_workflow_and_a_billed_cost_once(newcomer: Newcomer) -> None:
    assert "演示: 阳光花园: 阳光花园顶楼隔热及平改坡改造 由流程 proposal-" in newcomer.printed
    first = _demo_state(newcomer)
    [renovation] = first["renovations"]
    [workflow] = first["workflows"]
    assert (workflow["status"], workflow["state"]["step"]) == ("running", "consultation")
    [cost] = first["costs"]
    assert len(cost["units"]) == 12
    adopted = [p["name"] for p in first["plans"] if p["status"] == "adopted"]
    assert adopted == ["面积用量各半"] and len(first["plans"]) == 2
    [bill] = first["bills"]
    assert (bill["period"], bill["total_fen"]) == ("2026-10", 38640)
    assert sum(line["amount_fen"] for line in bill["lines"]) == 38640
    assert any(n["kind"] == "bills_issued" for n in first["notices"])

    # the loaders again (as a second first start would run them): nothing new
    settings = load_settings({**newcomer.env, "LINLI_ENV": "development"})
    asyncio.run(start_running_demo(settings))
    again = _demo_state(newcomer)
    assert [r["id"] for r in again["renovations"]] == [renovation["id"]]
    assert [w["run_id"] for w in again["workflows"]] == [workflow["run_id"]]
    assert [c["id"] for c in again["costs"]] == [cost["id"]]
    assert [p["id"] for p in again["plans"]] == [p["id"] for p in first["plans"]]
    assert again["bills"] == first["bills"]
