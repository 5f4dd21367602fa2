"""The meetings service's own Prometheus metrics (bounded labels only)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from linli.metrics import REGISTRY

MEETINGS_HELD = Counter(
    "linli_meetings_meetings_held_total",
    "Meetings whose minutes were approved (held), by kind.",
    ["kind"],
    registry=REGISTRY,
)
BALLOTS_CAST = Counter(
    "linli_meetings_ballots_cast_total",
    "Ballots cast (first ballot of a roll entry), by channel: online, paper, proxy.",
    ["channel"],
    registry=REGISTRY,
)
BALLOTS_CHANGED = Counter(
    "linli_meetings_ballots_changed_total",
    "Ballots of open votes changed before close.",
    registry=REGISTRY,
)
VOTES_CLOSED = Counter(
    "linli_meetings_votes_closed_total",
    "Votes closed, by rule and outcome (passed, failed_quorum, failed_approval).",
    ["rule", "outcome"],
    registry=REGISTRY,
)
TALLY_DURATION = Histogram(
    "linli_meetings_tally_duration_seconds",
    "Time to load and tally a vote's ballots against its frozen roll.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
