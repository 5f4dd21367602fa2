"""Volunteer metrics: orders by status and skill (bounded, see rules.metric_skill), service
hours, time from order to acceptance, missed care visits."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from linli.metrics import REGISTRY

ORDERS = Counter("linli_volunteers_orders_total",
                 "Orders entering each status, by skill.", ["skill", "status"],
                 registry=REGISTRY)
SERVICE_HOURS = Counter("linli_volunteers_service_hours_total",
                        "Hours of service recorded (orders and care visits), by skill.",
                        ["skill"], registry=REGISTRY)
ACCEPTANCE = Histogram(
    "linli_volunteers_order_acceptance_seconds", "Time from order to acceptance.", ["skill"],
    buckets=(300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400),
    registry=REGISTRY,
)
CARE_VISITS_MISSED = Counter("linli_volunteers_care_visits_missed_total",
                             "Care visits not recorded by their due time.", registry=REGISTRY)
CARE_VISITS_RECORDED = Counter("linli_volunteers_care_visits_recorded_total",
                               "Care visits recorded by volunteers.", registry=REGISTRY)
