"""deploy/ and docker-compose.yml: valid for their tools (promtool, docker-compose: system tools,
hence an integration test) and true to the code's metric names."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from linli import metrics

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def tool(binary: str, package: str) -> str:
    """The checker binary, a system tool (`.ci/run` installs the Debian package when absent)."""
    found = shutil.which(binary)
    if found is None:
        pytest.fail(f"{binary} is needed for this check: apt-get install {package} (or .ci/run)")
    return found


def exported_metric_names() -> set[str]:
    # the services' domain metrics register on import, as they do when a service starts
    import linli.busmetrics  # noqa: F401
    import services.centre.metrics
    import services.issues.metrics
    import services.meetings.metrics
    import services.notify.metrics
    import services.volunteers.metrics  # noqa: F401

    return {family.name for family in metrics.REGISTRY.collect()}


def test_prometheus_config_and_rules_pass_promtool(tmp_path: Path) -> None:
    promtool = tool("promtool", "prometheus")
    config = (DEPLOY / "prometheus.yml").read_text().replace("/etc/prometheus/alerts.yml",
                                                             str(DEPLOY / "alerts.yml"))
    (tmp_path / "prometheus.yml").write_text(config)
    for args in (["check", "config", str(tmp_path / "prometheus.yml")],
                 ["check", "rules", str(DEPLOY / "alerts.yml")],
                 ["test", "rules", str(DEPLOY / "alerts.test.yml")]):
        result = subprocess.run([promtool, *args], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_promtool_unit_test_and_a_runbook() -> None:
    alerts = re.findall(r"- alert: (\w+)", (DEPLOY / "alerts.yml").read_text())
    tested = set(re.findall(r"alertname: (\w+)", (DEPLOY / "alerts.test.yml").read_text()))
    readme = (ROOT / "README.md").read_text()
    bus = [a for a in alerts if a in {"LinliConsumerFallingBehind", "LinliConsumerRedeliveries",
                                      "LinliStreamNearLimit", "LinliNatsUnreachable"}]
    assert len(bus) == 4, "the bus alerts of issue 17 are missing"
    assert set(bus) <= tested, set(bus) - tested
    assert [a for a in alerts if f"`{a}`" not in readme] == [], "alerts without a runbook entry"


def test_nats_is_scraped_through_the_exporter_not_its_json_monitor() -> None:
    config = (DEPLOY / "prometheus.yml").read_text()
    assert "metrics_path: /varz" not in config and "nats-exporter:7777" in config
    compose = (ROOT / "docker-compose.yml").read_text()
    image = re.search(r"image: natsio/prometheus-nats-exporter:(\S+)", compose)
    assert image and re.fullmatch(r"\d+\.\d+\.\d+", image.group(1)), "exporter image not pinned"
    for flag in ("-varz", "-connz", "-jsz=all"):
        assert f'"{flag}"' in compose


def test_docker_compose_config_is_valid() -> None:
    compose = tool("docker-compose", "docker-compose")
    result = subprocess.run([compose, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                            capture_output=True, text=True, env={**os.environ, "LINLI_JWT_SECRET": "x"})
    assert result.returncode == 0, result.stderr
    text = (ROOT / "docker-compose.yml").read_text()
    for service in (p.parent.name for p in ROOT.glob("services/*/app.py")):
        assert f'command: ["serve", "{service}"]' in text, f"{service} is not deployed"


def test_alerts_and_dashboard_use_metrics_the_code_exports() -> None:
    exported = exported_metric_names()
    expressions = re.findall(r"expr: \|?\s*(.+?)(?:\n\s+for:|\n\s+labels:)",
                             (DEPLOY / "alerts.yml").read_text(), re.S)
    dashboard = json.loads((DEPLOY / "grafana" / "linli-overview.json").read_text())
    expressions += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {m for e in expressions for m in re.findall(r"\b(linli_[a-z_]+?)(?:_bucket|_total)?\b", e)}
    kernel = {m for m in used if not m.startswith("linli_workflow")}
    assert kernel, "no linli metric found in the alerts or dashboard"
    assert {m.removesuffix("_total") for m in kernel} <= exported, kernel - exported
