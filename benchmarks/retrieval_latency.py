"""Retrieval latency (p50/p95) of BM25, vector search and fusion, indexing throughput and memory.

Run from the repository root:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/retrieval_latency.py --docs 10000 100000
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/retrieval_latency.py --docs 100000 --vector-index hnsw
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/retrieval_latency.py --docs 10000 \
        --opensearch http://127.0.0.1:9200

What it measures, per corpus size (documents are answers from `medq.prepare.synthetic.generate_questions`,
queries are 200 of its patient questions, `--dim` random unit vectors stand in for embeddings so model inference
is not part of any figure):
  - indexing: `write_documents` + building the BM25 index (jieba + bigram tokenisation included), docs/s;
  - per query, separately: BM25 top-`--candidates`, vector top-`--candidates`, weighted RRF of the two, and the
    three together (the hybrid retrieval budget the issue sets: p95 < 20 ms at 100k docs on 2 cores);
  - memory: RSS growth of the process over the build (embedded store only).
`--vector-index hnsw` measures the embedded store with a faiss HNSW graph instead of the exact NumPy product.
Figures are printed and logged to MLflow (experiment `benchmarks`, run `retrieval_latency`).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import time
import uuid

import numpy as np
import psutil
from haystack import Document

from medq.prepare.synthetic import generate_questions
from medq.rag import EmbeddedDocumentStore, weighted_rrf
from medq.tracking import MlflowTracker

MB = 1024 * 1024


def make_corpus(n_docs: int, seed: int = 0) -> tuple[list[tuple[str, str]], list[str]]:
    docs, queries = [], []
    for qa in generate_questions(n_docs, seed=seed, answers_per_question=(1, 1)):
        docs.append((f"doc-{qa.question_id}", qa.answers[0]))
        if len(queries) < 200:
            queries.append(qa.title + qa.ask)
        if len(docs) >= n_docs:
            break
    return docs, queries


def percentiles(samples: list[float]) -> dict[str, float]:
    values = np.array(samples) * 1000
    return {"p50_ms": float(np.percentile(values, 50)), "p95_ms": float(np.percentile(values, 95))}


def measure(store, queries: list[str], query_vectors: np.ndarray, candidates: int) -> dict[str, dict[str, float]]:
    timings: dict[str, list[float]] = {"bm25": [], "vector": [], "fusion": [], "hybrid": []}
    for _ in range(3):  # warm-up: caches, lazy index builds
        store.bm25_search(queries[0], candidates)
        store.embedding_search(query_vectors[0], candidates)
    for text, vector in zip(queries, query_vectors):
        t0 = time.perf_counter()
        bm25 = store.bm25_search(text, candidates)
        t1 = time.perf_counter()
        dense = store.embedding_search(vector, candidates)
        t2 = time.perf_counter()
        weighted_rrf({"bm25": bm25, "dense": dense}, {"bm25": 1.0, "dense": 0.1}, k=10, top_k=candidates)
        t3 = time.perf_counter()
        timings["bm25"].append(t1 - t0)
        timings["vector"].append(t2 - t1)
        timings["fusion"].append(t3 - t2)
        timings["hybrid"].append(t3 - t0)
    return {name: percentiles(values) for name, values in timings.items()}


def build(kind: str, docs, vectors, url: str | None, vector_index: str = "exact", batch: int = 2000):
    if kind == "embedded":
        store = EmbeddedDocumentStore(vector_index=vector_index)
    else:
        from medq.rag.opensearch import OpenSearchStore

        store = OpenSearchStore(url=url, index=f"medq-bench-{uuid.uuid4().hex[:8]}", timeout_s=120)
        store.prepare(vectors.shape[1], "random")
    started = time.perf_counter()
    for start in range(0, len(docs), batch):
        chunk = [Document(id=i, content=c, embedding=vectors[start + n].tolist())
                 for n, (i, c) in enumerate(docs[start:start + batch])]
        if kind == "embedded":
            store.write_documents(chunk)
        else:
            store.write_documents(chunk, refresh=False)
    if kind == "embedded":
        store.bm25_search("头痛", 1)  # builds the BM25 index (and the HNSW graph): part of indexing
        store.embedding_search(vectors[0], 1)
    else:
        store.refresh()
    return store, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dim", type=int, default=1024, help="embedding dimension (BGE-M3: 1024)")
    parser.add_argument("--candidates", type=int, default=50)
    parser.add_argument("--opensearch", default=None, help="also measure an OpenSearch store at this URL")
    parser.add_argument("--vector-index", choices=["exact", "hnsw"], default="exact",
                        help="embedded store's vector search: exact NumPy product or faiss HNSW")
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    process = psutil.Process()
    results: dict[str, dict] = {}
    kinds = ["embedded"] + (["opensearch"] if args.opensearch else [])
    for n_docs in args.docs:
        docs, queries = make_corpus(n_docs)
        vectors = rng.standard_normal((len(docs), args.dim), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        query_vectors = rng.standard_normal((len(queries), args.dim), dtype=np.float32)
        query_vectors /= np.linalg.norm(query_vectors, axis=1, keepdims=True)
        for kind in kinds:
            gc.collect()
            rss_before = process.memory_info().rss
            store, seconds = build(kind, docs, vectors, args.opensearch, args.vector_index)
            rss_after = process.memory_info().rss
            figures = {"docs": len(docs), "index_seconds": round(seconds, 2),
                       "index_docs_per_second": round(len(docs) / seconds, 1),
                       "latency": measure(store, queries, query_vectors, args.candidates)}
            if kind == "embedded":
                figures["rss_growth_mb"] = round((rss_after - rss_before) / MB, 1)
            else:
                store.delete_index()
            label = f"{kind}-{args.vector_index}" if kind == "embedded" else kind
            results[f"{label}.{n_docs}"] = figures
            lat = figures["latency"]
            print(f"{label:16s} {len(docs):>7d} docs  index {figures['index_docs_per_second']:>8.0f} docs/s  "
                  + "  ".join(f"{k} p50 {v['p50_ms']:.2f} p95 {v['p95_ms']:.2f} ms" for k, v in lat.items())
                  + (f"  +RSS {figures['rss_growth_mb']} MB" if kind == "embedded" else ""), flush=True)
            del store
    environment = {"python": platform.python_version(), "cpus": os.cpu_count(), "dim": args.dim,
                   "vector_index": args.vector_index, "load_average_1m": os.getloadavg()[0],
                   "candidates": args.candidates, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}
    print(json.dumps({"environment": environment, "results": results}, indent=2, ensure_ascii=False))
    if not args.no_mlflow:
        root = os.environ.get("MEDQ_HOME", os.getcwd())
        tracker = MlflowTracker(f"sqlite:///{root}/mlruns/mlflow.db", "benchmarks", f"{root}/mlruns/artifacts")
        with tracker.pipeline_run("retrieval_latency", environment, {"benchmark": "retrieval_latency"}) as run:
            flat = {}
            for key, figures in results.items():
                flat[f"{key}.index_docs_per_second"] = figures["index_docs_per_second"]
                if "rss_growth_mb" in figures:
                    flat[f"{key}.rss_growth_mb"] = figures["rss_growth_mb"]
                for leg, values in figures["latency"].items():
                    flat.update({f"{key}.{leg}.{p}": v for p, v in values.items()})
            run.log_metrics(flat)


if __name__ == "__main__":
    main()
