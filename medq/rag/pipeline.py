"""The retrieve pipeline: query in, ranked evidence with stable ids and metadata out, sync and async.

    query ─ check ─ [rewrite] ─┬─ bm25 ───────────────────┐
                               └─ query_embedder ─ dense ─┴─ fusion (weighted RRF) ─ [ranker] ─ evidence

It is a Haystack `Pipeline` of medq components (see `medq/rag/components.py`); `mode` picks the legs, so the
retrieval-eval stage measures BM25 only, dense only, hybrid and hybrid + rerank with the same code the agent uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from haystack import Pipeline

from medq.errors import MedqError
from medq.rag.components import BM25Retriever, EmbeddingRetriever, Evidence, EvidenceBuilder, WeightedRRFJoiner
from medq.rag.embedders import QueryEmbedder
from medq.rag.query import QueryRewriter, QueryRules, check_query
from medq.safe_instantiate import allow_targets, instantiate_from_file

Mode = Literal["bm25", "dense", "hybrid"]


def open_index(index_json: Path, allowed_targets: list[str] | None = None) -> tuple[Any, Any, dict[str, Any]]:
    """Reopen the store (and its embedder) that the index stage described; refuse one that changed since.

    `index.json` is a file, so its `_target_`s must be medq classes or in `allowed_targets`."""
    description = json.loads(Path(index_json).read_text(encoding="utf-8"))
    allowed = allowed_targets or []
    store = instantiate_from_file(description["store"], f"{index_json}: store", allowed)
    embedder = (instantiate_from_file(description["embedder"], f"{index_json}: embedder", allowed)
                if description["embedder"] else None)
    if hasattr(store, "prepare") and description["store"]["_target_"].endswith("OpenSearchStore"):
        store.prepare(description["settings"].get("embedding_dim"))
    found = store.fingerprint()
    if found != description["fingerprint"]:
        raise MedqError(f"the store described by {index_json} changed since the index stage ran (another run "
                        "re-indexed it): rerun the index stage (force=true) or give each corpus its own "
                        "index.store path/index name")
    return store, embedder, description


@dataclass
class FusionSettings:
    # Chosen on the retrieval eval of the real dialogue dev set (docs/rag.md): with the hashing embedder every
    # dense weight that changed BM25's ranking made it worse (the customary k=60 most of all), so the dense leg only
    # breaks ties and fills the tail. Re-tune both with a real Chinese embedder (BGE-M3).
    bm25: float = 1.0
    dense: float = 0.02
    k: int = 10


@dataclass
class RetrievalResult:
    query: str
    searched_query: str
    truncated: bool
    evidence: list[Evidence] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"query": self.query, "searched_query": self.searched_query, "truncated": self.truncated,
                "evidence": [e.as_dict() for e in self.evidence]}


def load_pipeline_yaml(text: str, allowed_targets: list[str] | None = None) -> Pipeline:
    """A Haystack pipeline from `RetrievePipeline.to_yaml()`. Haystack 3 only imports components from allowed
    modules; the `_target_`s nested inside them (stores, embedders, rewriters) must be medq classes or listed in
    `allowed_targets` (see `medq/safe_instantiate.py`)."""
    with allow_targets(allowed_targets):
        return Pipeline.loads(text, allowed_modules=["medq.rag"])


class RetrievePipeline:
    def __init__(self, store: Any, embedder: Any | None = None, mode: Mode = "hybrid", top_k: int = 5,
                 candidates: int = 50, fusion: FusionSettings | None = None, ranker: Any | None = None,
                 rewriters: list[Any] | None = None, query_rules: QueryRules | None = None):
        if mode in ("dense", "hybrid") and embedder is None:
            raise MedqError(f"retrieve mode '{mode}' needs an embedder (index.embedder); use mode=bm25 without one")
        if top_k <= 0 or candidates < top_k:
            raise MedqError(f"retrieve needs 0 < top_k <= candidates, got top_k={top_k}, candidates={candidates}")
        self.store, self.embedder, self.mode = store, embedder, mode
        self.top_k, self.candidates = top_k, candidates
        self.fusion = fusion or FusionSettings()
        self.ranker = ranker
        self.rewriters = list(rewriters or [])
        self.query_rules = query_rules or QueryRules()
        self.pipeline = self._build()

    @classmethod
    def from_index(cls, index: str, mode: Mode = "hybrid", top_k: int = 5, candidates: int = 50,
                   fusion: FusionSettings | None = None, ranker: Any | None = None,
                   rewriters: list[Any] | None = None, query_rules: QueryRules | None = None,
                   allowed_targets: list[str] | None = None) -> RetrievePipeline:
        """The pipeline over the store an `index` stage built: `index` is that stage's `index.json`. This is what
        `conf/retrieve/default.yaml` builds (partially) for the layers that consume retrieval."""
        store, embedder, _ = open_index(Path(index), allowed_targets)
        fusion = fusion if isinstance(fusion, FusionSettings) or fusion is None else FusionSettings(**fusion)
        rules = query_rules if isinstance(query_rules, QueryRules) or query_rules is None else QueryRules(**query_rules)
        return cls(store, embedder, mode=mode if embedder is not None else "bm25", top_k=top_k,
                   candidates=candidates, fusion=fusion, ranker=ranker, rewriters=rewriters, query_rules=rules)

    def to_yaml(self) -> str:
        """The Haystack pipeline as YAML (stores written as their specs); load it with `load_pipeline_yaml`."""
        return self.pipeline.dumps()

    def _build(self) -> Pipeline:
        pipe = Pipeline()
        weights = {"bm25": self.fusion.bm25 if self.mode != "dense" else 0.0,
                   "dense": self.fusion.dense if self.mode != "bm25" else 0.0}
        if self.mode == "hybrid" and not any(weights.values()):
            raise MedqError("retrieve.fusion weights are all 0: give the bm25 or dense leg a positive weight")
        if self.rewriters:
            pipe.add_component("rewrite", QueryRewriter(self.rewriters))
        if weights["bm25"] > 0:
            pipe.add_component("bm25", BM25Retriever(self.store, self.candidates))
        if weights["dense"] > 0:
            pipe.add_component("query_embedder", QueryEmbedder(self.embedder))
            pipe.add_component("dense", EmbeddingRetriever(self.store, self.candidates))
            pipe.connect("query_embedder.embedding", "dense.query_embedding")
        pipe.add_component("fusion", WeightedRRFJoiner(weights, self.fusion.k, self.candidates))
        for leg in ("bm25", "dense"):
            if weights[leg] > 0:
                pipe.connect(f"{leg}.documents", f"fusion.{leg}")
                if self.rewriters:
                    pipe.connect("rewrite.query", "bm25.query" if leg == "bm25" else "query_embedder.text")
        pipe.add_component("evidence", EvidenceBuilder(self.top_k))
        if self.ranker is not None:
            pipe.add_component("ranker", self.ranker)
            pipe.connect("fusion.documents", "ranker.documents")
            pipe.connect("ranker.documents", "evidence.documents")
        else:
            pipe.connect("fusion.documents", "evidence.documents")
        self._weights = weights
        return pipe

    def _inputs(self, text: str, filters: dict[str, Any] | None, top_k: int) -> dict[str, Any]:
        data: dict[str, Any] = {"evidence": {"top_k": top_k}}
        if self.rewriters:
            data["rewrite"] = {"query": text}
        elif self._weights["bm25"] > 0:
            data["bm25"] = {"query": text}
        if not self.rewriters and self._weights["dense"] > 0:
            data["query_embedder"] = {"text": text}
        if self._weights["bm25"] > 0 and filters:
            data.setdefault("bm25", {})["filters"] = filters
        if self._weights["dense"] > 0 and filters:
            data["dense"] = {"filters": filters}
        if self.ranker is not None:
            data["ranker"] = {"query": text, "top_k": top_k}
        return data

    def _result(self, checked, outputs: dict[str, Any]) -> RetrievalResult:
        searched = outputs.get("rewrite", {}).get("query", checked.text)
        return RetrievalResult(checked.text, searched, checked.truncated, outputs["evidence"]["evidence"])

    def retrieve(self, query: str, top_k: int | None = None, filters: dict[str, Any] | None = None) -> RetrievalResult:
        checked = check_query(query, self.query_rules)
        include = {"rewrite"} if self.rewriters else set()
        outputs = self.pipeline.run(self._inputs(checked.text, filters, top_k or self.top_k),
                                    include_outputs_from=include)
        return self._result(checked, outputs)

    async def retrieve_async(self, query: str, top_k: int | None = None,
                             filters: dict[str, Any] | None = None) -> RetrievalResult:
        checked = check_query(query, self.query_rules)
        include = {"rewrite"} if self.rewriters else set()
        outputs = await self.pipeline.run_async(self._inputs(checked.text, filters, top_k or self.top_k),
                                                include_outputs_from=include)
        return self._result(checked, outputs)
