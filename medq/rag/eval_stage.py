"""The `retrieval_eval` stage: recall@k, MRR@10 and nDCG@10 for each retrieval leg, logged to MLflow.

Queries are the user turns of prepare's test split; the one relevant document of a query is the corpus entry of
its own answer (`metadata.example_id` = the test record's id). Legs: BM25 only, dense only, hybrid (weighted RRF),
hybrid + rerank (when a ranker is configured), and each with query rewriting (when rewriters are configured).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medq.artifacts import sha256_path, write_json_atomic
from medq.errors import InputDataError, MedqError
from medq.jsonl import read_jsonl, row_error
from medq.rag.pipeline import FusionSettings, Mode, RetrievePipeline, open_index
from medq.rag.query import QueryRules
from medq.stage import StageContext

log = logging.getLogger(__name__)
CUTOFFS = (1, 2, 3, 5, 10, 20, 50)


@dataclass
class Leg:
    name: str
    mode: str
    rerank: bool = False
    rewrite: bool = False


def read_test_queries(path: Path, limit: int | None) -> list[tuple[str, str]]:
    queries = []
    for line_no, record in read_jsonl(path, what="ChatML records"):
        try:
            user = next(m["content"] for m in record["messages"] if m["role"] == "user")
            queries.append((str(record["id"]), user))
        except (KeyError, StopIteration, TypeError):
            raise row_error(path, line_no, "not a ChatML record with an id and a user turn") from None
        if limit is not None and len(queries) >= limit:
            break
    if not queries:
        raise InputDataError(f"{path}: the test split is empty, so there is nothing to evaluate "
                             "(raise prepare.split.test or use more data)")
    return queries


def rank_metrics(ranks: list[int | None], cutoffs=CUTOFFS) -> dict[str, float]:
    """ranks: 1-based rank of the relevant document per query (None: not retrieved)."""
    n = len(ranks)
    metrics = {f"recall_at_{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in cutoffs}
    metrics["mrr_at_10"] = sum(1.0 / r for r in ranks if r is not None and r <= 10) / n
    metrics["ndcg_at_10"] = sum(1.0 / math.log2(r + 1) for r in ranks if r is not None and r <= 10) / n
    return metrics


class RetrievalEvalStage:
    outputs = ("metrics", "recall_plot")
    final_outputs = outputs  # reports (medq/wiring.py)

    def __init__(self, inputs: dict[str, str] | None = None, modes: list[Mode] | None = None,
                 fusion: FusionSettings | None = None, candidates: int = 50, max_queries: int | None = 1000,
                 ranker: Any | None = None, rewriters: list[Any] | None = None,
                 query: QueryRules | None = None, plot: bool = True, allowed_targets: list[str] | None = None):
        self.inputs = dict(inputs or {"index": "index.index", "test": "prepare.test"})
        unknown = [m for m in (modes or []) if m not in ("bm25", "dense", "hybrid")]
        if unknown:
            raise MedqError(f"retrieval_eval.modes: unknown mode(s) {unknown}; choose from bm25, dense, hybrid")
        self.modes = list(modes or ["bm25", "dense", "hybrid"])
        self.fusion = fusion if isinstance(fusion, FusionSettings) else FusionSettings(**(fusion or {}))
        self.candidates = candidates
        self.max_queries = max_queries
        self.ranker = ranker
        self.rewriters = list(rewriters or [])
        self.query = query if isinstance(query, QueryRules) else QueryRules(**(query or {}))
        self.plot = plot
        # `_target_`s beyond medq's own classes that index.json may name (a custom store or embedder you trust)
        self.allowed_targets = list(allowed_targets or [])
        if candidates < max(c for c in CUTOFFS if c <= 10):
            raise MedqError(f"retrieval_eval.candidates must be at least 10, got {candidates}")

    def legs(self, has_embedder: bool) -> list[Leg]:
        legs = [Leg(m, m) for m in self.modes if has_embedder or m == "bm25"]
        if self.ranker is not None:
            base = "hybrid" if has_embedder else "bm25"
            legs.append(Leg(f"{base}_rerank", base, rerank=True))
        if self.rewriters:
            legs += [Leg(f"{leg.name}_rewrite", leg.mode, leg.rerank, True) for leg in list(legs)]
        return legs

    def run(self, ctx: StageContext) -> dict[str, str]:
        store, embedder, description = open_index(Path(ctx.inputs["index"]), self.allowed_targets)
        queries = read_test_queries(Path(ctx.inputs["test"]), self.max_queries)
        legs = self.legs(embedder is not None)
        if embedder is None and any(m != "bm25" for m in self.modes):
            log.warning("retrieval_eval: the index has no embedder, so only BM25 legs are measured")
        results: dict[str, dict[str, float]] = {}
        curves: dict[str, list[float]] = {}
        for leg in legs:
            cutoff = min(max(CUTOFFS), self.candidates)
            pipeline = RetrievePipeline(store, embedder, mode=leg.mode, top_k=cutoff, candidates=self.candidates,
                                        fusion=self.fusion, ranker=self.ranker if leg.rerank else None,
                                        rewriters=self.rewriters if leg.rewrite else None, query_rules=self.query)
            ranks: list[int | None] = []
            started = time.perf_counter()
            for query_id, text in queries:
                evidence = pipeline.retrieve(text).evidence
                rank = next((e.rank for e in evidence if e.meta.get("example_id") == query_id), None)
                ranks.append(rank)
            seconds = time.perf_counter() - started
            cutoffs = tuple(c for c in CUTOFFS if c <= cutoff)
            metrics = rank_metrics(ranks, cutoffs)
            metrics["ms_per_query"] = 1000 * seconds / len(queries)
            results[leg.name] = metrics
            curves[leg.name] = [metrics[f"recall_at_{k}"] for k in cutoffs]
            log.info("retrieval_eval %-22s R@1 %.3f R@5 %.3f R@10 %.3f MRR@10 %.3f nDCG@10 %.3f (%.1f ms/query)",
                     leg.name, metrics["recall_at_1"], metrics["recall_at_5"], metrics["recall_at_10"],
                     metrics["mrr_at_10"], metrics["ndcg_at_10"], metrics["ms_per_query"])

        flat = {f"{leg}.{name}": round(value, 6) for leg, m in results.items() for name, value in m.items()}
        flat["queries"] = len(queries)
        singles = [results[m]["recall_at_10"] for m in ("bm25", "dense") if m in results]
        if "hybrid" in results and singles:
            flat["hybrid_minus_best_single.recall_at_10"] = round(results["hybrid"]["recall_at_10"] - max(singles), 6)
            if results["hybrid"]["recall_at_10"] < max(singles):
                log.warning("retrieval_eval: hybrid recall@10 %.3f is below the best single leg %.3f: lower "
                            "the weaker leg's fusion weight", results["hybrid"]["recall_at_10"], max(singles))
        # which queries: two runs on different splits (or a max_queries cut) must not pass for comparable
        query_set = {"query_set.source": self.inputs.get("test", "test"),
                     "query_set.split": str(self.inputs.get("test", "test")).rpartition(".")[2],
                     "query_set.n": len(queries), "query_set.sha256": sha256_path(Path(ctx.inputs["test"]))[:16],
                     "query_set.max_queries": self.max_queries if self.max_queries else "all"}
        ctx.tracker.set_tags(query_set)
        report = {"queries": len(queries), "query_set": query_set, "index": description["settings"],
                  "fusion": vars(self.fusion), "candidates": self.candidates, "legs": results}
        write_json_atomic(ctx.output_dir / "retrieval_metrics.json", report)
        artifacts = {"metrics": "retrieval_metrics.json"}
        ctx.tracker.log_metrics(flat)
        ctx.tracker.log_artifact(ctx.output_dir / "retrieval_metrics.json")
        if self.plot:
            self._plot(ctx.output_dir / "recall_at_k.png", curves,
                       [c for c in CUTOFFS if c <= min(max(CUTOFFS), self.candidates)], len(queries))
            ctx.tracker.log_artifact(ctx.output_dir / "recall_at_k.png")
            artifacts["recall_plot"] = "recall_at_k.png"
        return artifacts

    @staticmethod
    def _plot(path: Path, curves: dict[str, list[float]], cutoffs: list[int], n: int) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
        for name, values in curves.items():
            ax.plot(cutoffs, values, marker="o", label=name)
        ax.set_xscale("log")
        ax.set_xticks(cutoffs)
        ax.set_xticklabels([str(c) for c in cutoffs])
        ax.set_xlabel("k")
        ax.set_ylabel("recall@k")
        ax.set_ylim(0, 1)
        ax.set_title(f"Retrieval recall@k ({n} test queries)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
