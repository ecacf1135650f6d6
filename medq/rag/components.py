"""Haystack components of the retrieve pipeline: store-agnostic retrievers, weighted RRF fusion, evidence ids.

The retrievers call two methods every medq store has (`bm25_search`, `embedding_search` and their `_async`
twins), so switching between the embedded store and OpenSearch is a config change, not a pipeline change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from haystack import Document, component, default_from_dict, default_to_dict

from medq.safe_instantiate import instantiate_from_file


class SearchableStore(Protocol):
    def count_documents(self) -> int: ...
    def bm25_search(self, query: str, top_k: int = 10, filters: dict | None = None) -> list[Document]: ...
    def embedding_search(self, query_embedding: list[float], top_k: int = 10,
                         filters: dict | None = None) -> list[Document]: ...
    async def bm25_search_async(self, query: str, top_k: int = 10, filters: dict | None = None) -> list[Document]: ...
    async def embedding_search_async(self, query_embedding: list[float], top_k: int = 10,
                                     filters: dict | None = None) -> list[Document]: ...


def store_from_spec(spec: dict[str, Any], where: str = "serialised pipeline: document_store") -> Any:
    """Rebuild a store from its `spec()` (the `_target_` config that `index.json` also records); the spec was
    read from a file, so only allowed targets are instantiated."""
    return instantiate_from_file(spec, where)


class _StoreBacked:
    """to_dict/from_dict for components holding a medq store: the store is written as its spec, so a pipeline
    serialises to YAML and reloads against the same persisted store or index."""

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, document_store=self.document_store.spec(), top_k=self.top_k)

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        data["init_parameters"]["document_store"] = store_from_spec(data["init_parameters"]["document_store"])
        return default_from_dict(cls, data)


@component
class BM25Retriever(_StoreBacked):
    def __init__(self, document_store: SearchableStore, top_k: int = 50):
        self.document_store = document_store
        self.top_k = top_k

    @component.output_types(documents=list[Document])
    def run(self, query: str, filters: dict[str, Any] | None = None, top_k: int | None = None) -> dict[str, Any]:
        return {"documents": self.document_store.bm25_search(query, top_k or self.top_k, filters)}

    @component.output_types(documents=list[Document])
    async def run_async(self, query: str, filters: dict[str, Any] | None = None,
                        top_k: int | None = None) -> dict[str, Any]:
        return {"documents": await self.document_store.bm25_search_async(query, top_k or self.top_k, filters)}


@component
class EmbeddingRetriever(_StoreBacked):
    def __init__(self, document_store: SearchableStore, top_k: int = 50):
        self.document_store = document_store
        self.top_k = top_k

    @component.output_types(documents=list[Document])
    def run(self, query_embedding: list[float], filters: dict[str, Any] | None = None,
            top_k: int | None = None) -> dict[str, Any]:
        return {"documents": self.document_store.embedding_search(query_embedding, top_k or self.top_k, filters)}

    @component.output_types(documents=list[Document])
    async def run_async(self, query_embedding: list[float], filters: dict[str, Any] | None = None,
                        top_k: int | None = None) -> dict[str, Any]:
        docs = await self.document_store.embedding_search_async(query_embedding, top_k or self.top_k, filters)
        return {"documents": docs}


def weighted_rrf(ranked_lists: dict[str, list[Document]], weights: dict[str, float], k: int = 60,
                 top_k: int | None = None) -> list[Document]:
    """score(d) = sum over legs of weight / (k + rank in that leg), ranks from 1. Ties keep first-seen order.
    Each fused document records its per-leg ranks in `meta['ranks']`."""
    scores: dict[str, float] = {}
    docs: dict[str, Document] = {}
    ranks: dict[str, dict[str, int]] = {}
    for leg, documents in ranked_lists.items():
        weight = float(weights.get(leg, 1.0))
        for rank, doc in enumerate(documents, start=1):
            if doc.id in ranks.get(leg, {}) or (doc.id in ranks and leg in ranks[doc.id]):
                continue  # a leg listing a document twice counts it once, at its best rank
            docs.setdefault(doc.id, doc)
            ranks.setdefault(doc.id, {})[leg] = rank
            scores[doc.id] = scores.get(doc.id, 0.0) + weight / (k + rank)
    order = sorted(scores, key=lambda doc_id: -scores[doc_id])
    if top_k is not None:
        order = order[:top_k]
    return [Document(id=d, content=docs[d].content, meta={**docs[d].meta, "ranks": ranks[d]}, score=scores[d])
            for d in order]


@component
class WeightedRRFJoiner:
    """Reciprocal-rank fusion of the BM25 and dense legs, weights by config (a weight of 0 drops a leg)."""

    def __init__(self, weights: dict[str, float] | None = None, k: int = 60, top_k: int = 50):
        self.weights = dict(weights or {"bm25": 1.0, "dense": 1.0})
        self.k = k
        self.top_k = top_k

    @component.output_types(documents=list[Document])
    def run(self, bm25: list[Document] | None = None, dense: list[Document] | None = None) -> dict[str, Any]:
        legs = {name: docs for name, docs in (("bm25", bm25), ("dense", dense))
                if docs is not None and self.weights.get(name, 0.0) > 0}
        return {"documents": weighted_rrf(legs, self.weights, self.k, self.top_k)}


@dataclass(frozen=True)
class Evidence:
    """One retrieved passage as the generation layer sees it: cite it as `[E1]`, trace it by `doc_id`."""

    evidence_id: str
    doc_id: str
    content: str
    score: float
    rank: int
    meta: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"evidence_id": self.evidence_id, "doc_id": self.doc_id, "content": self.content,
                "score": self.score, "rank": self.rank, "meta": self.meta}


@component
class EvidenceBuilder:
    """Ranked documents -> `Evidence` numbered E1, E2, ... in rank order (the ids the citation checker expects)."""

    def __init__(self, top_k: int = 5):
        self.top_k = top_k

    @component.output_types(evidence=list[Evidence])
    def run(self, documents: list[Document], top_k: int | None = None) -> dict[str, Any]:
        evidence = [Evidence(f"E{i}", d.id, d.content or "", float(d.score or 0.0), i, dict(d.meta))
                    for i, d in enumerate(documents[: top_k or self.top_k], start=1)]
        return {"evidence": evidence}
