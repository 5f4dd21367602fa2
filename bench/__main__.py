"""`make bench`: every benchmark in turn (each writes bench/results/NAME.json), then one table of
the figures with the ratio columns and issue 15's targets beside them.

`python -m bench --quick` runs each with tiny sizes (checks that it runs; figures mean nothing);
`python -m bench --table` only prints the table from the results already written.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from typing import Any

from bench.harness import RESULTS

BENCHMARKS = ["bus", "issues", "meetings", "volunteers", "centre", "workflows", "notify", "growth"]


def get(data: dict[str, Any], path: str) -> Any:
    for key in path.split("."):
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


# (benchmark, row, figure path, ceiling path or None, target text, met(figure, ratio) or None)
Row = tuple[str, str, str, str | None, str, Callable[[Any, Any], bool] | None]
ROWS: list[Row] = [
    ("issues", "issue reported over HTTP /s", "http_api_report.per_s", "bare_aiohttp_insert.per_s",
     "≥ 0.70 of bare", lambda v, r: r is not None and r >= 0.70),
    ("issues", "  p99 ms", "http_api_report.latency_p99_ms", None, "< 50", lambda v, r: v < 50),
    ("issues", "  CPU ms / report (service)", "http_api_report.service_cpu_ms_per_request",
     "bare_aiohttp_insert.service_cpu_ms_per_request", "", None),
    ("issues", "  PG round trips / report", "http_api_report.round_trips_per_request",
     "bare_aiohttp_insert.round_trips_per_request", "", None),
    ("issues", "  PG CPU ms / report", "http_api_report.postgres_cpu_ms_per_request",
     "bare_aiohttp_insert.postgres_cpu_ms_per_request", "", None),
    ("issues", "same work, no HTTP framework /s", "same_work_no_framework.per_s",
     "bare_aiohttp_insert.per_s", "", None),
    ("issues", "  CPU ms / report (process)", "same_work_no_framework.service_cpu_ms_per_request",
     "bare_aiohttp_insert.service_cpu_ms_per_request", "", None),
    ("issues", "  PG CPU ms / report", "same_work_no_framework.postgres_cpu_ms_per_request",
     "bare_aiohttp_insert.postgres_cpu_ms_per_request", "", None),
    ("meetings", "ballots /s (3,000 owners at once)", "concurrent_ballots_over_http.ballots_per_s",
     None, "≥ 1,000", lambda v, r: v >= 1000),
    ("meetings", "  p99 ms", "concurrent_ballots_over_http.latency_p99_ms", None, "< 100",
     lambda v, r: v < 100),
    ("meetings", "  counted once", "concurrent_ballots_over_http.counted_ballots",
     "concurrent_ballots_over_http.owners", "= owners", lambda v, r: r == 1),
    ("meetings", "  CPU ms / ballot (service)",
     "concurrent_ballots_over_http.service_cpu_ms_per_request", None, "", None),
    ("meetings", "  PG round trips / ballot",
     "concurrent_ballots_over_http.round_trips_per_request", None, "", None),
    ("meetings", "ballots /s (3,000 owners, arriving 1,000/s)",
     "steady_ballots_over_http.ballots_per_s", None, "≥ 990 (keeps pace)", lambda v, r: v >= 990),
    ("meetings", "  p99 ms", "steady_ballots_over_http.latency_p99_ms", None, "< 100",
     lambda v, r: v < 100),
    ("meetings", "  counted once", "steady_ballots_over_http.counted_ballots",
     "steady_ballots_over_http.owners", "= owners", lambda v, r: r == 1),
    ("meetings", "secret ballots /s (3,000 owners at once)",
     "secret_ballots_over_http.ballots_per_s", None, "", None),
    ("meetings", "  p99 ms", "secret_ballots_over_http.latency_p99_ms", None, "", None),
    ("meetings", "  counted once", "secret_ballots_over_http.counted_ballots",
     "secret_ballots_over_http.owners", "= owners", lambda v, r: r == 1),
    ("meetings", "  PG round trips / ballot",
     "secret_ballots_over_http.round_trips_per_request", None, "", None),
    ("meetings", "secret election ballots /s (3,000 at once)",
     "secret_election_ballots_over_http.ballots_per_s", None, "", None),
    ("meetings", "  p99 ms", "secret_election_ballots_over_http.latency_p99_ms", None, "", None),
    ("meetings", "tally 100,000 from PG, ms", "tally_100000_loaded_from_postgres.ms", None, "< 100",
     lambda v, r: v < 100),
    ("meetings", "tally 1,000,000 from PG, ms", "tally_1000000_loaded_from_postgres.ms", None,
     "< 1,000", lambda v, r: v < 1000),
    ("bus", "outbox backlog → consumer, flat out /s", "outbox_backlog_drained.per_s",
     "raw_jetstream.publish_pipelined_per_s", "≥ 5,000", lambda v, r: v >= 5000),
    ("bus", "  events lost", "outbox_backlog_drained.lost", None, "0", lambda v, r: v == 0),
    ("bus", "  events applied twice", "outbox_backlog_drained.handled_more_than_once", None,
     "0", lambda v, r: v == 0),
    ("bus", "  PG round trips / event", "outbox_backlog_drained.round_trips_per_request",
     None, "", None),
    ("bus", "writers + outbox → consumer, flat out /s", "outbox_to_consumer_flat_out.per_s",
     "outbox_to_consumer_flat_out.writers_alone_per_s", "", None),
    ("bus", "  events lost", "outbox_to_consumer_flat_out.lost", None, "0", lambda v, r: v == 0),
    ("bus", "  events applied twice", "outbox_to_consumer_flat_out.handled_more_than_once", None,
     "0", lambda v, r: v == 0),
    ("bus", "steady 500 /s, p99 ms", "outbox_to_consumer_paced_500_per_s.latency_p99_ms", None,
     "< 50", lambda v, r: v < 50),
    ("workflows", "vote.closed → next step p99 ms (100)",
     "proposal_all_at_once.vote_closed_to_next_step_p99_ms", None, "< 500", lambda v, r: v < 500),
    *(("workflows", f"  {label} p99 ms", f"proposal_all_at_once.breakdown.{stage}.p99_ms", None,
       "", None) for stage, label in (("relay_and_bus", "outbox relay + bus → bridge"),
                                      ("signal", "bridge's signal"),
                                      ("workflow_task", "signal → result read"),
                                      ("step", "result read → step event"))),
    ("workflows", "  worker: task waits for a poller, mean ms",
     "proposal_all_at_once.worker_sdk_mean_ms.workflow_task_schedule_to_start", None, "", None),
    ("workflows", "  worker: task execution, mean ms",
     "proposal_all_at_once.worker_sdk_mean_ms.workflow_task_execution", None, "", None),
    ("workflows", "  CPU ms / proposal, worker", "proposal_all_at_once.cpu_ms_per_proposal.worker",
     None, "", None),
    ("workflows", "  CPU ms / proposal, Temporal dev server",
     "proposal_all_at_once.cpu_ms_per_proposal.temporal", None, "", None),
    ("workflows", "vote.closed → next step p99 ms, 100 votes closing together",
     "proposal_votes_closing_together.vote_closed_to_next_step_p99_ms", None, "< 500",
     lambda v, r: v < 500),
    ("workflows", "vote.closed → next step p99 ms, 100 waiting, votes closing 10 /s",
     "proposal_votes_closing_paced.vote_closed_to_next_step_p99_ms", None, "", None),
    ("workflows", "  p50 ms", "proposal_votes_closing_paced.vote_closed_to_next_step_p50_ms", None,
     "", None),
    ("workflows", "proposal workflows completed /s", "proposal_all_at_once.completed_per_s",
     "trivial_one_activity.completed_per_s", "", None),
    ("volunteers", "volunteer orders /s", "place_order_http.per_s", "bare_aiohttp_insert.per_s",
     "≥ 0.5 of bare", lambda v, r: r is not None and r >= 0.5),
    ("volunteers", "  PG round trips / order", "place_order_http.round_trips_per_request",
     "bare_aiohttp_insert.round_trips_per_request", "", None),
    ("volunteers", "  CPU ms / order (service)", "place_order_http.service_cpu_ms_per_request",
     "bare_aiohttp_insert.service_cpu_ms_per_request", "", None),
    ("volunteers", "  PG CPU ms / order", "place_order_http.postgres_cpu_ms_per_request",
     "bare_aiohttp_insert.postgres_cpu_ms_per_request", "", None),
    ("volunteers", "same work, no HTTP framework /s", "same_work_no_framework.per_s",
     "bare_aiohttp_insert.per_s", "", None),
    ("volunteers", "  CPU ms / order (process)", "same_work_no_framework.service_cpu_ms_per_request",
     "bare_aiohttp_insert.service_cpu_ms_per_request", "", None),
    ("volunteers", "  PG CPU ms / order", "same_work_no_framework.postgres_cpu_ms_per_request",
     "bare_aiohttp_insert.postgres_cpu_ms_per_request", "", None),
    ("volunteers", "ledger CSV 1,000,000 lines, ms", "ledger_1000000.csv_export_ms", None,
     "< 5,000", lambda v, r: v < 5000),
    ("volunteers", "  service RSS peak during CSV MB", "ledger_1000000.service_rss_peak_during_csv_mb",
     "ledger_1000000.service_rss_before_mb", "constant", None),
    ("centre", "sign-up rush /s", "signup_rush_http.per_s", None, "", None),
    ("notify", "event → open inbox p99 ms", "event_to_inbox_sse.p99_ms", None, "", None),
    # the "ceiling" of a growth row is the same figure at the smallest size: the ratio is growth
    ("growth", "issues first page p50 ms (1,000,000 | 10,000)",
     "issues_pages.first_page_p50_ms_largest", "issues_pages.first_page_p50_ms_smallest",
     "ratio ≤ 1.5", lambda v, r: r is not None and r <= 1.5),
    ("growth", "  deep page p50 ms (1,000,000 | 10,000)", "issues_pages.deep_page_p50_ms_largest",
     "issues_pages.deep_page_p50_ms_smallest", "ratio ≤ 1.5",
     lambda v, r: r is not None and r <= 1.5),
    ("growth", "  deep page query in PG ms", "issues_pages.deep_page_postgres_ms_largest",
     "issues_pages.deep_page_postgres_ms_smallest", "", None),
    ("growth", "  my issues p50 ms (1,000,000 | 10,000)", "issues_pages.my_issues_p50_ms_largest",
     "issues_pages.my_issues_p50_ms_smallest", "ratio ≤ 1.5",
     lambda v, r: r is not None and r <= 1.5),
    ("growth", "  page plans on an index, no Sort of the set", "issues_pages.plans_on_index", None,
     "yes",
     lambda v, r: v is True),
    ("growth", "ballots /s (30,000 owners at once)", "vote_of_many_owners.ballots_per_s", None, "",
     None),
    ("growth", "  p50 ms", "vote_of_many_owners.latency_p50_ms", None, "", None),
    ("growth", "  p99 ms", "vote_of_many_owners.latency_p99_ms", None, "", None),
    ("growth", "  counted once", "vote_of_many_owners.counted_ballots",
     "vote_of_many_owners.owners", "= owners", lambda v, r: r == 1),
    ("growth", "  vote opened (roll frozen) ms", "vote_of_many_owners.open_vote_with_roll_ms", None,
     "", None),
    ("growth", "  close and tally ms", "vote_of_many_owners.close_and_tally_ms", None, "", None),
    ("growth", "units and owners imported (30,000 CSV lines) /s", "units_import.lines_per_s",
     None, "", None),
    ("growth", "  CPU ms / line, directory", "units_import.service_cpu_ms_per_request", None, "",
     None),
]


def fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 10 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table() -> str:
    results = {}
    for name in BENCHMARKS:
        path = RESULTS / f"{name}.json"
        if path.exists():
            results[name] = json.loads(path.read_text())
    lines = ["| path | figure | ceiling beside it | ratio | target | met |",
             "| --- | ---: | ---: | ---: | --- | --- |"]
    for name, label, figure, ceiling, target, met in ROWS:
        value = get(results.get(name, {}), figure)
        floor = get(results.get(name, {}), ceiling) if ceiling else None
        ratio = round(value / floor, 3) if value is not None and floor else None
        verdict = "" if met is None or value is None else ("yes" if met(value, ratio) else "no")
        lines.append(f"| {label} | {fmt(value)} | {fmt(floor)} | {fmt(ratio)} | {target} | {verdict} |")
    rss: dict[str, float] = {}
    for data in results.values():
        for service, mb in (data.get("idle_rss_mb") or {}).items():
            if service != "bare":
                rss[service] = max(rss.get(service, 0.0), mb)
    for service, mb in sorted(rss.items()):
        lines.append(f"| idle RSS {service} MB | {fmt(mb)} | | | < 100 | {'yes' if mb < 100 else 'no'} |")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if "--table" not in argv:
        extra = ["--quick"] if "--quick" in argv else []
        for name in BENCHMARKS:
            print(f"== bench.bench_{name}", flush=True)
            sys.argv = [f"bench.bench_{name}", *extra]
            importlib.import_module(f"bench.bench_{name}").main()
    print(table())


if __name__ == "__main__":
    main(sys.argv[1:])
