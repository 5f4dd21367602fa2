"""Prometheus metrics shared by every Linli process (one registry per process)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry()

HTTP_REQUESTS = Counter(
    "linli_http_requests_total",
    "HTTP requests by service, route template, method and status.",
    ["service", "route", "method", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "linli_http_request_duration_seconds",
    "HTTP request latency by service, route template and method.",
    ["service", "route", "method"],
    registry=REGISTRY,
)
EVENTS_PUBLISHED = Counter(
    "linli_events_published_total",
    "Events the outbox relay published and JetStream acknowledged.",
    ["type"],
    registry=REGISTRY,
)
EVENTS_CONSUMED = Counter(
    "linli_events_consumed_total",
    "Events handled by a durable consumer: applied, duplicate (already in the inbox) or failed.",
    ["consumer", "type", "outcome"],
    registry=REGISTRY,
)
EVENTS_DEAD_LETTERED = Counter(
    "linli_events_dead_lettered_total",
    "Events moved to the dead-letter subject after bounded redeliveries.",
    ["consumer", "type"],
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge(
    "linli_outbox_backlog",
    "Outbox rows not yet published.",
    ["service"],
    registry=REGISTRY,
)
OUTBOX_OLDEST_AGE = Gauge(
    "linli_outbox_oldest_age_seconds",
    "Age of the oldest unpublished outbox row (0 when empty).",
    ["service"],
    registry=REGISTRY,
)
LOOP_UP = Gauge(
    "linli_loop_up",
    "1 while a supervised background loop (relay, consumer, sender, sweep) runs, else 0.",
    ["loop"],
    registry=REGISTRY,
)
LOOP_RESTARTS = Counter(
    "linli_loop_restarts_total",
    "Times a supervised background loop failed and was restarted.",
    ["loop"],
    registry=REGISTRY,
)
ROWS_PRUNED = Counter(
    "linli_rows_pruned_total",
    "Old kernel rows deleted by the pruning job: outbox (sent), inbox, idempotency, …",
    ["service", "table"],
    registry=REGISTRY,
)

__all__ = [
    "CONTENT_TYPE",
    "EVENTS_CONSUMED",
    "EVENTS_DEAD_LETTERED",
    "EVENTS_PUBLISHED",
    "HTTP_LATENCY",
    "HTTP_REQUESTS",
    "LOOP_RESTARTS",
    "LOOP_UP",
    "OUTBOX_BACKLOG",
    "OUTBOX_OLDEST_AGE",
    "REGISTRY",
    "ROWS_PRUNED",
    "render",
]


def render() -> bytes:
    """The registry in Prometheus text format."""
    return generate_latest(REGISTRY)
