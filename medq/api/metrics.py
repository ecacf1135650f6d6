"""Prometheus metrics of turns (requests and latency per route come from Litestar's PrometheusMiddleware).

Each uvicorn worker has its own registry; set PROMETHEUS_MULTIPROC_DIR to a shared empty folder before starting
the workers to have /metrics aggregate all of them (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

from typing import Mapping

from prometheus_client import Counter, Histogram

TURNS = Counter("medq_api_turns_total", "Chat turns by model and outcome (answered, refined, fallback, referral, ...)",
                ["model", "outcome"])
FAILED = Counter("medq_api_turn_failures_total", "Chat turns that failed (nothing written to memory)", ["reason"])
TOKENS = Counter("medq_api_tokens_total", "Model tokens spent by turns", ["kind"])
AUDIT = Counter("medq_api_audit_outcomes_total", "Audit outcome of each answered turn: passed, revised, withheld",
                ["outcome"])
LATENCY = Histogram("medq_api_turn_seconds", "Turn latency (memory, retrieval, drafting, audit, memory write)",
                    ["model"], buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80))
AUDIT_OF = {"answered": "passed", "refined": "revised", "fallback": "withheld", "referral": "referral",
            "unsupported_language": "refused"}


class TurnMetrics:
    def turn(self, model: str, outcome: str, seconds: float, usage: Mapping[str, int]) -> None:
        TURNS.labels(model, outcome).inc()
        AUDIT.labels(AUDIT_OF.get(outcome, outcome)).inc()
        LATENCY.labels(model).observe(seconds)
        for kind in ("prompt_tokens", "completion_tokens"):
            if usage.get(kind):
                TOKENS.labels(kind.removesuffix("_tokens")).inc(int(usage[kind]))

    def failed(self, reason: str) -> None:
        FAILED.labels(reason).inc()
