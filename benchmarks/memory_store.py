"""Turn throughput and commit latency of the agent memory store under concurrent writers, and a lost-fact check.

Run from the repository root:

    OMP_NUM_THREADS=1 python benchmarks/memory_store.py                          # a fresh SQLite file (WAL)
    OMP_NUM_THREADS=1 python benchmarks/memory_store.py --url postgresql+psycopg://user@/db?host=/run/postgresql

What it does: `--threads` threads each run `--turns` turns (`EntityMemoryStore.turn`: read facts, summary and
recent turns; add one allergy fact and one finding; record the turn) for patients drawn round-robin from
`--patients`, so several threads write the same patient at once. No model call sits inside the turn, so the
figures are the store's own cost. Reported: turns/s over the wall time, the latency of a whole turn (read +
commit) p50/p95/max, and lost facts (expected minus stored; must be 0). Figures are printed and logged to MLflow
(experiment `benchmarks`, run `memory_store`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path

from medq.agent.facts import Fact
from medq.agent.memory.store import EntityMemoryStore
from medq.tracking import MlflowTracker


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--turns", type=int, default=50, help="turns per thread")
    parser.add_argument("--patients", type=int, default=4)
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args()

    url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='medq-memory-bench-')}/memory.db"
    store = EntityMemoryStore(url)
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        for k in range(args.turns):
            patient = f"bench-{(index + k) % args.patients}"
            started = time.perf_counter()
            with store.turn("default", patient, f"session-{index}") as turn:
                turn.add_facts([Fact("allergy", f"药物{index}-{k}", source_message_id=turn.message_id)])
                turn.add_findings([{"drug": "阿莫西林", "rule": "allergy_class", "fact_value": "青霉素"}])
                turn.record(f"我对药物{index}-{k}过敏", "好的，已记录。")
            with lock:
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.threads)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    stored = sum(len(store.facts("default", f"bench-{p}")) for p in range(min(args.patients,
                                                                              args.threads * args.turns)))
    expected = args.threads * args.turns
    figures = {"turns": expected, "turns_per_second": round(expected / wall, 1),
               "turn_ms_p50": round(1000 * statistics.median(latencies), 2),
               "turn_ms_p95": round(1000 * percentile(latencies, 0.95), 2),
               "turn_ms_max": round(1000 * max(latencies), 2), "lost_facts": expected - stored}
    backend = store.engine.dialect.name
    store.close()
    environment = {"python": platform.python_version(), "cpus": os.cpu_count(), "backend": backend,
                   "threads": args.threads, "turns_per_thread": args.turns, "patients": args.patients,
                   "load_average_1m": os.getloadavg()[0]}
    print(json.dumps({"environment": environment, "results": figures}, indent=2, ensure_ascii=False))
    if not args.no_mlflow:
        root = Path(os.environ.get("MEDQ_HOME", os.getcwd()))
        tracker = MlflowTracker(f"sqlite:///{root}/mlruns/mlflow.db", "benchmarks", f"{root}/mlruns/artifacts")
        with tracker.pipeline_run("memory_store", environment, {"benchmark": "memory_store"}) as run:
            run.log_metrics({f"{backend}.{k}": v for k, v in figures.items()})
    if figures["lost_facts"]:
        raise SystemExit(f"lost {figures['lost_facts']} facts")


if __name__ == "__main__":
    main()
