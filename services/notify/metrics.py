"""Notify metrics (bounded labels: kind is one of templates.KINDS, channel and outcome fixed)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from linli.metrics import REGISTRY

NOTIFICATIONS = Counter(
    "linli_notify_notifications_total",
    "Notifications created, by kind and audience (person, role or compound notice board).",
    ["kind", "audience"], registry=REGISTRY)
SKIPPED = Counter(
    "linli_notify_events_skipped_total", "Events that notified nobody, by reason.", ["reason"],
    registry=REGISTRY)
DELIVERIES = Counter(
    "linli_notify_deliveries_total",
    "Outbound delivery attempts by channel and outcome (sent, retry, failed).",
    ["channel", "outcome"], registry=REGISTRY)
DELIVERY_LATENCY = Histogram(
    "linli_notify_delivery_latency_seconds",
    "From the notification being written to its delivery being accepted by the receiver.",
    ["channel"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 1800, 3600, 8 * 3600),
    registry=REGISTRY)
PENDING = Gauge(
    "linli_notify_deliveries_pending", "Outbound deliveries not yet sent or failed for good.",
    registry=REGISTRY)
SSE_OPEN = Gauge(
    "linli_notify_sse_connections", "Live inbox streams (Server-Sent Events) open on this replica.",
    registry=REGISTRY)
