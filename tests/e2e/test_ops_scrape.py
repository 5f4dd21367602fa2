"""Ops see the platform: a real Prometheus (Debian's `prometheus`) scrapes the processes the
tests start with deploy/alerts.yml loaded; every target is up, every rule healthy, the bus
gauges exist, the dashboard's panels return series once traffic went through, and a consumer
that stops falls behind in Prometheus itself.

The NATS exporter of docker-compose.yml runs only as a container, so here the worker's JetStream
gauges (linli/busmetrics.py) are the NATS source.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig

from linli import bus
from linli.events import CloudEvent, encode
from linli.local import wait_ready
from linli.stack import free_port, stop_process
from tests.e2e.conftest import Http, Platform, at_step, until
from tests.integration.test_deploy import tool

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SERVICES = ("directory", "issues", "meetings", "workflows")


def scrape_config(platform: Platform) -> str:
    """deploy/prometheus.yml's jobs and rules, pointed at this test's processes, every second."""
    def hostport(url: str) -> str:
        return url.removeprefix("http://")

    services = json.dumps([hostport(platform.urls[name]) for name in SERVICES])
    return f"""global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: ["{DEPLOY / 'alerts.yml'}"]
scrape_configs:
  - job_name: linli-services
    static_configs: [{{targets: {services}}}]
  - job_name: linli-worker
    static_configs: [{{targets: ["{hostport(platform.urls['worker'])}"]}}]
"""


@pytest.fixture(scope="module")
def prometheus(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Prometheus on a free port scraping the platform; its base URL."""
    binary = tool("prometheus", "prometheus")
    folder = tmp_path_factory.mktemp("prometheus")
    (folder / "prometheus.yml").write_text(scrape_config(platform))
    port = free_port()
    with open(folder / "prometheus.log", "ab") as log:
        process = subprocess.Popen(
            [binary, f"--config.file={folder / 'prometheus.yml'}",
             f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}/-/ready", process, "prometheus")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process, timeout=15)


@pytest.fixture
async def api(prometheus: str) -> AsyncIterator[PrometheusApi]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield PrometheusApi(prometheus, session)


class PrometheusApi:
    def __init__(self, base: str, session: aiohttp.ClientSession) -> None:
        self.base, self.session = base, session

    async def get(self, path: str, **params: str) -> Any:
        async with self.session.get(self.base + path, params=params) as response:
            body = await response.json()
            assert body["status"] == "success", body
            return body["data"]

    async def query(self, expr: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = (await self.get("/api/v1/query", query=expr))["result"]
        return result

    async def value(self, expr: str) -> float | None:
        result = await self.query(expr)
        return float(result[0]["value"][1]) if result else None


async def scraped_twice(api: PrometheusApi) -> list[dict[str, Any]] | None:
    """Every target, once each has been scraped at least twice (None before)."""
    targets: list[dict[str, Any]] = (await api.get("/api/v1/targets"))["activeTargets"]
    counts = await api.query("count_over_time(up[10m])")
    if len(targets) == len(SERVICES) + 1 and len(counts) == len(targets) and all(
            float(c["value"][1]) >= 2 for c in counts):
        return targets
    return None


# the dashboard queries this test's traffic does not feed, and why
UNFED = {
    (3, "A"): "no request here answers 5xx",
    (6, "A"): "nothing dead-lettered here",
    (9, "C"): "nothing escalated here",
    (9, "D"): "nothing overdue here",
    **{(panel, ref): "meetings votes, volunteers and notify have no traffic here"
       for panel, refs in ((11, "AB"), (12, "A"), (13, "ABC"), (14, "ABC")) for ref in refs},
    **{(19, ref): "the centre is not scraped here (its story is test_story_centre.py)"
       for ref in "ABCD"},
}


async def send_traffic(http: Http) -> None:
    """A compound registered, an issue reported, accepted and resolved (events out, and the
    worker's bridge consuming the resolution), one 404, a proposal workflow's first step."""
    street = http.platform.token(roles=["street_office"], compounds=["*"])
    compound = await http.post("directory", "/v1/compounds", street, {
        "name": f"运维巡检小区 {uuid.uuid4().hex[:6]}", "community": "南山社区",
        "street": "罗江街道", "district": "泉州市洛江区"}, status=201)
    c = f"/v1/compounds/{compound['id']}"
    resident = http.platform.token(roles=["resident", "owner"], compounds=[compound["id"]])
    issue = await http.post("issues", f"{c}/issues", resident, {
        "category": "common_parts", "title": "楼道灯不亮", "area": "corridor",
        "description": "三单元二楼到五楼的楼道灯坏了一周。"}, status=201)
    worker = http.platform.token(roles=["community"], compounds=[compound["id"]])
    for step in ("accepted", "resolved"):
        await http.post("issues", f"{c}/issues/{issue['id']}/status", worker, {"to": step})
    assert await http.get_if_found("issues", f"{c}/issues/{uuid.uuid4()}", worker) is None
    await take_a_workflow_step(http, compound["id"])


async def take_a_workflow_step(http: Http, cid: str) -> None:
    """A proposal workflow that leaves its first step for the consultation, then is withdrawn."""
    c = f"/v1/compounds/{cid}"
    branch = http.platform.token(roles=["party_branch"], compounds=[cid], person=str(uuid.uuid4()))
    proposal = await http.post("meetings", f"{c}/proposals", branch, {
        "title": "楼道灯更换", "matter": "art278_7", "body": "更换三单元楼道灯。"}, status=201)
    started = await http.post("workflows", "/v1/workflows", branch, {
        "type": "proposal", "key": f"ops-{proposal['id']}", "input": {
            "compound_id": cid, "proposal_id": proposal["id"], "convener": "运维巡检党支部",
            "consultation_seconds": 600, "consultation_reminders": [], "vote_seconds": 600,
            "vote_reminders": []}}, status=201)
    http.platform.started.append(started["workflow_id"])
    w = f"/v1/workflows/{started['workflow_id']}"
    await at_step(http, w, branch, "consultation")
    await http.post("workflows", f"{w}/cancel", branch, {"reason": "运维巡检结束, 撤回议案"})


async def test_prometheus_scrapes_every_target_with_rules_and_bus_gauges(
        api: PrometheusApi, http: Http) -> None:
    targets = await until("every target scraped twice", lambda: scraped_twice(api), within=60)
    assert [(t["labels"]["job"], t["health"]) for t in targets if t["health"] != "up"] == [], targets
    async def evaluated() -> list[dict[str, Any]] | None:
        rules = [r for g in (await api.get("/api/v1/rules"))["groups"] for r in g["rules"]]
        return rules if all(r["health"] != "unknown" for r in rules) else None

    rules = await until("every rule evaluated", evaluated, within=30)
    assert len(rules) == (DEPLOY / "alerts.yml").read_text().count("- alert:")
    assert [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"] == []
    # the platform's own durables (the worker's event bridge) are in the gauges
    tag_durables = await api.query('linli_jetstream_consumer_pending_messages{job="linli-worker"}')
    assert any(s["metric"]["consumer"].startswith("e2e-") for s in tag_durables), tag_durables
    up = await api.query('linli_dependency_up{dependency="nats"}')
    assert sorted(s["metric"]["service"] for s in up) == sorted([*SERVICES, "worker"])
    assert all(s["value"][1] == "1" for s in up), up

    await send_traffic(http)
    dashboard = json.loads((DEPLOY / "grafana" / "linli-overview.json").read_text())
    queries = [(p["id"], t["refId"], t["expr"]) for p in dashboard["panels"] for t in p["targets"]]
    assert {(p, r) for p, r, _ in queries} >= UNFED.keys()

    async def panels_without_series() -> list[str]:
        return [f"panel {p} {r}: {expr}" for p, r, expr in queries
                if (p, r) not in UNFED and not await api.query(expr)]

    async def all_fed() -> bool:
        return not await panels_without_series()

    try:
        await until("every fed panel query returns series", all_fed, within=60)
    except AssertionError:
        raise AssertionError(f"still empty: {await panels_without_series()}") from None


async def test_a_stopped_consumer_falls_behind_in_prometheus(
        api: PrometheusApi, platform: Platform) -> None:
    durable = f"ops-lag-{uuid.uuid4().hex[:8]}"
    subject = f"linli.ops{uuid.uuid4().hex[:8]}.probe.sent"
    connection = await nats.connect(platform.nats_url)
    try:
        js = connection.jetstream()
        # a durable whose process is not running: nothing pulls
        await js.add_consumer(bus.STREAM, ConsumerConfig(
            durable_name=durable, filter_subject=subject, ack_policy=AckPolicy.EXPLICIT))
        series = f'linli_jetstream_consumer_pending_messages{{consumer="{durable}"}}'
        query = f"max({series})"
        for published, expected in ((3, 3.0), (4, 7.0)):
            for n in range(published):
                event = CloudEvent(id=str(uuid.uuid4()), source="linli/ops", type=subject,
                                       subject=str(n), time="2026-01-01T00:00:00Z")
                await js.publish(subject, encode(event))

            async def seen(expected: float = expected) -> bool:
                return await api.value(query) == expected

            await until(f"Prometheus sees {expected:.0f} pending", seen, within=60)
        grew = await api.value(f"delta({series}[5m])")
        assert grew is not None and grew > 0
    finally:
        try:
            await connection.jetstream().delete_consumer(bus.STREAM, durable)
        finally:
            await connection.close()
