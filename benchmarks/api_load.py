"""Load on the API: N concurrent patients, each stating a unique allergy in one session, then asking a question in a
second session; then each patient's memory is read back. Reports requests/s, p50/p95 latency and errors, and checks
that no fact was lost and no patient's memory or answer contains another patient's allergy.

    python benchmarks/api_load.py                        # 200 patients against a fresh API + scripted model server
    python benchmarks/api_load.py --api-url http://127.0.0.1:8000 --api-key mq-... --patients 200 --model medq-agent

Without --api-url it starts `python -m medq.api serve` (uvicorn, SQLite in a temporary folder) in front of the
scripted OpenAI-protocol replay server (fixed short replies: the figures measure the API, agent pipeline and memory
store, not a model). The allergies are the generic names of the shipped drug lexicon, one per patient.
Figures are printed as JSON and logged to MLflow (./mlruns, experiment `benchmarks`, run `api_load`).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
QUESTION = "我嗓子疼，可以吃点什么药？"


def unique_allergies(n: int) -> list[str]:
    with open(REPO / "medq" / "agent" / "knowledge" / "substances.csv", encoding="utf-8") as f:
        names = [row["name"] for row in csv.DictReader(f) if row["kind"] == "drug"]
    if n > len(names):
        raise SystemExit(f"only {len(names)} distinct drugs in the lexicon; use --patients <= {len(names)}")
    return names[:n]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] if ordered else 0.0


async def _patient(client: httpx.AsyncClient, gate: asyncio.Semaphore, model: str, patient: str, allergy: str,
                   latencies: list[float], errors: list[str], answers: dict[str, str], memories: dict[str, list]):
    async def call(method: str, url: str, **kw):
        async with gate:
            started = time.perf_counter()
            try:
                response = await client.request(method, url, **kw)
            except httpx.HTTPError as exc:
                errors.append(f"{patient} {method} {url}: {type(exc).__name__}")
                return None
            latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            errors.append(f"{patient} {method} {url}: HTTP {response.status_code} {response.text[:200]}")
            return None
        return response.json()

    def turn(text: str, session: str) -> dict:
        return {"model": model, "user": patient, "metadata": {"session_id": session},
                "messages": [{"role": "user", "content": text}]}

    if await call("POST", "/v1/chat/completions", json=turn(f"我对{allergy}过敏。", f"{patient}-s1")) is None:
        return
    reply = await call("POST", "/v1/chat/completions", json=turn(QUESTION, f"{patient}-s2"))
    if reply is not None:
        answers[patient] = reply["choices"][0]["message"]["content"] + json.dumps(reply["medq"], ensure_ascii=False)
    memory = await call("GET", f"/v1/patients/{patient}/memory")
    if memory is not None:
        memories[patient] = [f["value"] for f in memory["facts"] if f["kind"] == "allergy"]


def run_load(base_url: str, api_key: str, patients: int = 200, concurrency: int = 200, prefix: str = "load",
             model: str = "medq-agent") -> dict:
    allergies = dict(zip([f"{prefix}-{i:04d}" for i in range(patients)], unique_allergies(patients)))
    latencies: list[float] = []
    errors: list[str] = []
    answers: dict[str, str] = {}
    memories: dict[str, list] = {}

    async def main() -> float:
        gate = asyncio.Semaphore(concurrency)
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"},
                                     timeout=600, limits=limits) as client:
            started = time.perf_counter()
            await asyncio.gather(*(_patient(client, gate, model, p, a, latencies, errors, answers, memories)
                                   for p, a in allergies.items()))
            return time.perf_counter() - started

    elapsed = asyncio.run(main())
    lost = [p for p, a in allergies.items() if a not in memories.get(p, [])]
    leaks = []
    for patient, own in allergies.items():
        others = [a for p, a in allergies.items() if p != patient]
        seen = set(memories.get(patient, [])) - {own}
        leaked = sorted(seen) + [a for a in others if a in answers.get(patient, "")]
        if leaked:
            leaks.append(f"{patient}: {leaked[:3]}")
    return {"patients": patients, "concurrency": concurrency, "requests": len(latencies),
            "elapsed_s": round(elapsed, 2), "requests_per_s": round(len(latencies) / elapsed, 2),
            "latency_p50_s": round(percentile(latencies, 0.5), 3), "latency_p95_s": round(percentile(latencies, 0.95), 3),
            "latency_mean_s": round(statistics.fmean(latencies), 3) if latencies else 0.0,
            "errors": errors, "lost_facts": lost, "leaks": leaks}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api-url")
    parser.add_argument("--api-key")
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--model", default="medq-agent")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers when the script starts the API")
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args()
    stop = []
    if not args.api_url:
        sys.path.insert(0, str(REPO))
        from tests.fixtures.openai_replay import OpenAIReplay
        from tests.api.conftest import PASS, SAFE_DRAFT, start_api

        server = OpenAIReplay().start()
        server.script("draft", default={"content": SAFE_DRAFT})
        server.script("critic", default=PASS)
        server.script("summary", default={"content": "摘要。"})
        api = start_api(Path(tempfile.mkdtemp(prefix="medq-load-")), server.base_url,
                        "api.rate_limit.requests=1000000", f"api.workers={args.workers}", tenants=("load",))
        args.api_url, args.api_key = api.base_url, api.keys["load"]
        stop = [api.stop, server.stop]
    try:
        report = run_load(args.api_url, args.api_key, args.patients, args.concurrency, model=args.model)
    finally:
        for fn in stop:
            fn()
    summary = {k: (len(v) if isinstance(v, list) else v) for k, v in report.items()}
    print(json.dumps({**summary, "first_errors": report["errors"][:5], "first_leaks": report["leaks"][:5],
                      "machine": f"{platform.node()} {platform.processor() or platform.machine()}"},
                     ensure_ascii=False, indent=1))
    if not args.no_mlflow:
        from medq.tracking import MlflowTracker

        root = Path.cwd()
        tracker = MlflowTracker(f"sqlite:///{root}/mlruns/mlflow.db", "benchmarks", f"{root}/mlruns/artifacts")
        with tracker.pipeline_run("api_load", {"patients": args.patients, "concurrency": args.concurrency,
                                               "model": args.model, "workers": args.workers},
                                  {"benchmark": "api_load"}) as run:
            run.log_metrics({k: float(v) for k, v in summary.items() if isinstance(v, (int, float))})
    return 0 if not (report["errors"] or report["lost_facts"] or report["leaks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
