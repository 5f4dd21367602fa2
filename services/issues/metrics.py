"""Issue metrics: by category (bounded labels, see rules.metric_category) and time to act."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from linli.metrics import REGISTRY

_HOURS = (600, 1800, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400, 30 * 86400)

REPORTED = Counter("linli_issues_reported_total", "Issues reported, by category.", ["category"],
                   registry=REGISTRY)
RESOLVED = Counter("linli_issues_resolved_total", "Issues resolved, by category.", ["category"],
                   registry=REGISTRY)
ESCALATED = Counter("linli_issues_escalated_total", "Issues escalated to the council.",
                    ["category", "reason"], registry=REGISTRY)
OVERDUE = Counter("linli_issues_overdue_total", "Issues that passed a target time.",
                  ["category"], registry=REGISTRY)
FIRST_RESPONSE = Histogram(
    "linli_issues_first_response_seconds", "Time from report to first response.", ["category"],
    buckets=_HOURS, registry=REGISTRY,
)
RESOLUTION = Histogram(
    "linli_issues_resolution_seconds", "Time from report to resolution.", ["category"],
    buckets=_HOURS, registry=REGISTRY,
)
