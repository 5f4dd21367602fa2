"""`make bench`: every benchmark in turn; each prints its figures and writes bench/results/*.json."""

from __future__ import annotations

import importlib
import importlib.util
import sys

BENCHMARKS = ["bench.bench_bus", "bench.bench_issues", "bench.bench_meetings", "bench.bench_volunteers",
              "bench.bench_centre", "bench.bench_workflows", "bench.bench_notify"]

if __name__ == "__main__":
    for name in BENCHMARKS:
        if importlib.util.find_spec(name) is None:
            continue
        print(f"== {name}", flush=True)
        sys.argv = [name]
        importlib.import_module(name).main()
