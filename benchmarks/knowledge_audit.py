"""Knowledge-base load time and auditor latency on the full shipped knowledge.

Run from the repository root:

    OMP_NUM_THREADS=1 python benchmarks/knowledge_audit.py                 # targets: load ≤ 1 s, audit p95 ≤ 5 ms
    OMP_NUM_THREADS=1 python benchmarks/knowledge_audit.py --knowledge-dir FORMULARY   # with a hospital overlay

What it measures:
- load: `Lexicon.load()` — read and validate the six CSV files, resolve every reference, build the Aho–Corasick
  automaton. `--loads` repetitions in this process after the imports; the first (cold: OpenCC's character table
  and the CSVs read from disk for the first time) is reported apart from the median of the rest. The typo index
  (pinyin and deletion neighbourhoods) is built on first use: its build time is reported separately and also
  added to the cold load (`load_with_typo_index_s`), so neither cost is hidden.
- audit: `ContraindicationAuditor.audit()` on drafts of about 300 characters (built from the sentence templates
  below: recommendations with doses, warnings, lists, traditional script and typos) against varied profiles; the
  first audit warms caches and is excluded; p50/p95/max over `--audits` audits.
Figures are printed and logged to MLflow (experiment `benchmarks`, run `knowledge_audit`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from pathlib import Path

SENTENCES = [
    "考虑是上呼吸道感染，可以口服布洛芬混悬液，每次10ml，每6小时一次。", "可以吃阿莫西林胶囊，每次0.5g，每日3次。",
    "布洛芬伤胃，您最好不要吃，可以换成对乙酰氨基酚。", "千万不要自己吃阿司匹林，会增加出血风险。",
    "建议继续服用氨氯地平，降压药不要停。", "感冒可以吃白加黑，晚上吃黑片。", "注意多喝水，清淡饮食，保证休息。",
    "如果三天不退烧，请及时就医复查血常规。", "服用甲硝唑期间不要饮酒。", "可以用氯雷他定止痒，每日一次，每次10mg。",
    "二甲双胍每次0.5g，每日2次，随餐服用。", "这两种药合用有风险，不建议合用。", "可以吃對乙醯胺酚退燒。",
    "孕期不要用左氧氟沙星。", "## 注意事项\n- 避免使用阿司匹林、布洛芬\n- 可选对乙酰氨基酚", "可以吃阿莫西邻。",
    "它会刺激胃黏膜，所以不要空腹吃。", "维C银翘片和泰诺林不要一起吃，都含对乙酰氨基酚。", "可以喝点小柴胡颗粒。",
]
PROFILES = [
    {}, {"allergies": ["青霉素"]}, {"medications": ["华法林", "氨氯地平"], "age": 72},
    {"pregnant": True, "trimester": 3}, {"age": 4, "weight_kg": 16}, {"conditions": ["慢性肾脏病4期", "高血压"]},
    {"conditions": ["胃溃疡"], "medications": ["阿司匹林"], "lactating": True, "egfr": 45},
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def drafts(count: int, length: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        text = ""
        while len(text) < length:
            text += rng.choice(SENTENCES)
        out.append(f"（{len(out)}）" + text[:length - 6])   # unique: no draft repeats (no cache hits)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--knowledge-dir", default=None)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--audits", type=int, default=1000)
    parser.add_argument("--chars", type=int, default=300)
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args()

    from medq.agent.auditor import ContraindicationAuditor
    from medq.agent.facts import PatientProfile
    from medq.agent.knowledge import Lexicon

    load_times = []
    for _ in range(args.loads):
        started = time.perf_counter()
        lexicon = Lexicon.load(args.knowledge_dir)
        load_times.append(time.perf_counter() - started)
    started = time.perf_counter()
    _ = lexicon.fuzzy
    typo_index_s = time.perf_counter() - started
    auditor = ContraindicationAuditor(lexicon)
    profiles = [PatientProfile.from_case(p) for p in PROFILES]
    texts = drafts(args.audits + 1, args.chars)
    auditor.audit(texts[0], profiles[0])
    latencies, cpu, blocked = [], [], 0
    for index, text in enumerate(texts[1:]):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = auditor.audit(text, profiles[index % len(profiles)], question="我能吃布洛芬吗？")
        latencies.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        blocked += result.blocked
    figures = {"load_cold_s": round(load_times[0], 3),
               "load_warm_median_s": round(statistics.median(load_times[1:] or load_times), 3),
               "typo_index_build_s": round(typo_index_s, 3),
               "load_with_typo_index_s": round(load_times[0] + typo_index_s, 3),
               "audit_ms_p50": round(1000 * percentile(latencies, 0.5), 3),
               "audit_ms_p95": round(1000 * percentile(latencies, 0.95), 3),
               "audit_ms_max": round(1000 * max(latencies), 3),
               # CPU time of the auditing process: the same audits without the waits a shared machine adds
               "audit_cpu_ms_p50": round(1000 * percentile(cpu, 0.5), 3),
               "audit_cpu_ms_p95": round(1000 * percentile(cpu, 0.95), 3),
               "audits_blocked_share": round(blocked / len(latencies), 3),
               **{f"kb_{k}": v for k, v in lexicon.counts().items()}}
    environment = {"python": platform.python_version(), "cpus": os.cpu_count(),
                   "load_average_1m": os.getloadavg()[0], "draft_chars": args.chars, "audits": args.audits,
                   "knowledge_dir": args.knowledge_dir or "shipped"}
    print(json.dumps({"environment": environment, "results": figures}, indent=2, ensure_ascii=False))
    if not args.no_mlflow:
        from medq.tracking import MlflowTracker

        root = Path(os.environ.get("MEDQ_HOME", os.getcwd()))
        tracker = MlflowTracker(f"sqlite:///{root}/mlruns/mlflow.db", "benchmarks", f"{root}/mlruns/artifacts")
        with tracker.pipeline_run("knowledge_audit", environment, {"benchmark": "knowledge_audit"}) as run:
            run.log_metrics(figures)


if __name__ == "__main__":
    main()
