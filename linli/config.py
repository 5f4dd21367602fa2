"""Typed settings read from the environment when asked, never at import."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

# In start order (linli up): the directory first, which the others ask; the portal last, which
# shows what the others answer.
SERVICE_PORTS: dict[str, int] = {
    "directory": 8101,
    "issues": 8102,
    "meetings": 8103,
    "volunteers": 8104,
    "notify": 8105,
    "workflows": 8106,
    "centre": 8107,
    "portal": 8100,
}
WORKER_METRICS_PORT = 8109
DEV_SECRET = "linli-local-development-secret-change-me"
# LINLI_ENV values under which the published development secret is accepted
DEVELOPMENT = frozenset({"development", "test"})
MIN_SECRET_BYTES = 32


class ConfigError(Exception):
    """A setting that must not reach production (a published secret, a short key)."""


@dataclass(frozen=True)
class Settings:
    """Everything a Linli process needs to know about its surroundings."""

    database_url: str = ""
    # one URL, or the servers of a cluster separated by commas (nats://a:4222,nats://b:4222)
    nats_url: str = "nats://127.0.0.1:4222"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "linli"
    jwt_secret: str = DEV_SECRET
    host: str = "127.0.0.1"
    ports: Mapping[str, int] = field(default_factory=lambda: dict(SERVICE_PORTS))
    worker_metrics_port: int = WORKER_METRICS_PORT
    service_urls: Mapping[str, str] = field(default_factory=dict)
    data_dir: Path = Path(".linli")
    max_body_bytes: int = 1024 * 1024
    # bounded redelivery before an event goes to the dead-letter subject
    max_deliver: int = 5
    ack_wait_seconds: float = 30.0
    relay_batch: int = 100
    # LINLI_STREAM_REPLICAS: servers of a NATS cluster keeping each stream (3 in production);
    # None keeps an existing stream's count (a new one gets 1)
    stream_replicas: int | None = None
    # notify: webhooks may reach private addresses (an IM bot on the same network) only when
    # allowed; how many times a delivery is tried
    notify_allow_internal_webhooks: bool = False
    notify_webhook_attempts: int = 8  # the retry schedule of services/notify/rules.py, ~24 h
    # the worker's event bridge: the durable consumers' name prefix, and whether it starts the
    # follow-up and care workflows (tests on shared servers turn that off)
    bridge_prefix: str = "workflows"
    bridge_follow_ups: bool = True
    # "production" unless LINLI_ENV says development (linli up sets it for its children)
    environment: str = "production"
    # LINLI_LOG_LEVEL: debug adds one access-log line per successful request (linli/http.py)
    log_level: str = "info"
    # JetStream gauges (linli/busmetrics.py): how often the worker reads the streams and
    # consumers, and the size ops planned for a stream that has no limit of its own
    bus_metrics_seconds: float = 15.0
    stream_budget_messages: int = 5_000_000
    stream_budget_bytes: int = 8 * 1024**3
    # meetings: the seats an owners' committee may have (an odd number in this range)
    committee_seats_min: int = 5
    committee_seats_max: int = 11

    def port(self, service: str) -> int:
        """The HTTP port of a service."""
        return self.ports[service]

    def service_url(self, service: str) -> str:
        """Base URL of another service, from LINLI_<NAME>_URL or the local port table."""
        if service in self.service_urls:
            return self.service_urls[service].rstrip("/")
        return f"http://{self.host}:{self.ports[service]}"

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests and the local stack use this)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `env` (default: the process environment)."""
    env = os.environ if env is None else env
    ports = dict(SERVICE_PORTS)
    urls: dict[str, str] = {}
    for name in SERVICE_PORTS:
        if value := env.get(f"LINLI_{name.upper()}_PORT"):
            ports[name] = int(value)
        if value := env.get(f"LINLI_{name.upper()}_URL"):
            urls[name] = value
    base = Settings()
    return Settings(
        database_url=env.get("LINLI_DATABASE_URL", base.database_url),
        nats_url=env.get("LINLI_NATS_URL", base.nats_url),
        temporal_address=env.get("LINLI_TEMPORAL_ADDRESS", base.temporal_address),
        temporal_namespace=env.get("LINLI_TEMPORAL_NAMESPACE", base.temporal_namespace),
        temporal_task_queue=env.get("LINLI_TEMPORAL_TASK_QUEUE", base.temporal_task_queue),
        jwt_secret=env.get("LINLI_JWT_SECRET", base.jwt_secret),
        host=env.get("LINLI_HOST", base.host),
        ports=ports,
        worker_metrics_port=int(env.get("LINLI_WORKER_METRICS_PORT", WORKER_METRICS_PORT)),
        service_urls=urls,
        data_dir=Path(env.get("LINLI_DATA_DIR", str(base.data_dir))),
        max_body_bytes=int(env.get("LINLI_MAX_BODY_BYTES", base.max_body_bytes)),
        max_deliver=int(env.get("LINLI_MAX_DELIVER", base.max_deliver)),
        stream_replicas=int(env["LINLI_STREAM_REPLICAS"]) if env.get("LINLI_STREAM_REPLICAS")
        else None,
        notify_allow_internal_webhooks=env.get("LINLI_NOTIFY_ALLOW_INTERNAL_WEBHOOKS", "0") == "1",
        notify_webhook_attempts=int(env.get("LINLI_NOTIFY_WEBHOOK_ATTEMPTS",
                                            base.notify_webhook_attempts)),
        bridge_prefix=env.get("LINLI_BRIDGE_PREFIX", base.bridge_prefix),
        bridge_follow_ups=env.get("LINLI_BRIDGE_FOLLOW_UPS", "1") != "0",
        environment=env.get("LINLI_ENV", base.environment),
        log_level=env.get("LINLI_LOG_LEVEL", base.log_level),
        bus_metrics_seconds=float(env.get("LINLI_BUS_METRICS_SECONDS", base.bus_metrics_seconds)),
        stream_budget_messages=int(env.get("LINLI_STREAM_BUDGET_MESSAGES",
                                           base.stream_budget_messages)),
        stream_budget_bytes=int(env.get("LINLI_STREAM_BUDGET_BYTES", base.stream_budget_bytes)),
        committee_seats_min=int(env.get("LINLI_COMMITTEE_SEATS_MIN", base.committee_seats_min)),
        committee_seats_max=int(env.get("LINLI_COMMITTEE_SEATS_MAX", base.committee_seats_max)),
    )


def check_secret(settings: Settings) -> None:
    """Refuse to serve with a token key anyone can read (the development secret is in this
    repository) or guess (short), unless LINLI_ENV says this is development."""
    if settings.environment in DEVELOPMENT:
        return
    if settings.jwt_secret == DEV_SECRET:
        raise ConfigError(
            "LINLI_JWT_SECRET 仍是公开的开发密钥, 任何人都能用它签发令牌: 请设置至少"
            f" {MIN_SECRET_BYTES} 字节的随机密钥 (本地开发请用 linli up, 或设置 LINLI_ENV=development)")
    if len(settings.jwt_secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"LINLI_JWT_SECRET 太短: 至少需要 {MIN_SECRET_BYTES} 字节的随机密钥")
