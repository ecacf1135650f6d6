"""An embedded document store for one machine: bm25s for BM25, a NumPy matrix for vectors, a folder on disk.

It implements Haystack's `DocumentStore` protocol (count/filter/write/delete, to_dict/from_dict) plus the two
searches medq's retrievers call (`bm25_search`, `embedding_search`). Neither search is a Python loop over
documents: BM25 scores come from bm25s's sparse index, vector scores from one matrix-vector product (or, with
`vector_index=hnsw`, a faiss HNSW graph for large corpora), top-k from `np.argpartition`. Saved to `path` as

    store.json          settings, embedding dimension, embedder fingerprint, corpus fingerprint
    documents.jsonl     id, content, meta, content hash (one line per document, in index order)
    embeddings.npy      float32 [n, dim] (absent when no embedder was used)
    bm25/               the bm25s index
    tokens.jsonl        each document's BM25 tokens, so an upsert re-tokenises only what changed
    vectors.hnsw        the faiss HNSW graph (only with vector_index=hnsw)

and reloaded without re-embedding or re-tokenising.

Versions (`versioned=true`, the default): `path` is the store's home and every `save()` publishes an immutable
version, `path/versions/<address>/` (the files above), addressed by the corpus fingerprint, the embedder
fingerprint and the settings; `path/latest` names the newest. Opening the home loads the latest version as the
starting point of an incremental upsert (copy-on-write: it is read, never written), and `spec()` names the exact
version, so an `index.json` keeps pointing at the store it described while later runs (a sweep's other jobs)
publish theirs next to it. A version is never changed or deleted by medq.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from haystack import Document, default_from_dict, default_to_dict
from haystack.document_stores.errors import DuplicateDocumentError
from haystack.document_stores.types import DuplicatePolicy
from haystack.utils.filters import document_matches_filter

from medq.artifacts import atomic_path, sha256_json, write_text_atomic
from medq.errors import MedqError
from medq.jsonl import read_jsonl
from medq.rag.tokenizer import ChineseBM25Tokenizer

log = logging.getLogger(__name__)
FORMAT_VERSION = 1


def content_hash(content: str, meta: dict[str, Any] | None = None) -> str:
    payload = json.dumps([content, meta or {}], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


def corpus_fingerprint(hashes: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for doc_id in sorted(hashes):
        digest.update(f"{doc_id}\0{hashes[doc_id]}\n".encode())
    return digest.hexdigest()


@dataclass
class HnswSettings:
    """faiss HNSW over the vectors (vector_index=hnsw): exact search reads the whole matrix per query, which at
    100k x 1024 floats is ~400 MB and tens of milliseconds on one core."""

    m: int = 32
    ef_construction: int = 40
    ef_search: int = 64


class EmbeddedDocumentStore:
    """Documents in memory, persisted under `path`; BM25 (bm25s) and dense (NumPy) search.

    Writes mark the BM25 index stale; it is rebuilt from the cached token lists on the next search or save, so a
    batch of upserts costs one rebuild.
    """

    def __init__(self, path: str | None = None, tokenizer: ChineseBM25Tokenizer | None = None,
                 k1: float = 1.2, b: float = 0.75,
                 bm25_method: Literal["lucene", "robertson", "atire", "bm25l", "bm25+"] = "lucene",
                 vector_index: Literal["exact", "hnsw"] = "exact", hnsw: HnswSettings | None = None,
                 versioned: bool = True, load: bool = True):
        # `home`: where versions are published; `path`: the folder of the version loaded or last saved (None for a
        # store not yet saved). Unversioned, both are the one folder that save() replaces.
        self.home = Path(path) if path else None
        self.versioned = versioned
        self.path = self.home
        if versioned and self.home is not None and not (self.home / "store.json").is_file():
            self.path = self._latest_version()  # a home with store.json is a pre-versioning store: start from it
        self.tokenizer = tokenizer or ChineseBM25Tokenizer()
        self.k1, self.b, self.bm25_method = k1, b, bm25_method
        self.vector_index = vector_index
        self.hnsw = hnsw if isinstance(hnsw, HnswSettings) else HnswSettings(**(hnsw or {}))
        self._ann = None
        self._ann_stale = True
        self._docs: list[Document] = []
        self._hashes: list[str] = []
        self._position: dict[str, int] = {}
        self._tokens: list[list[str] | None] = []
        self._vectors: np.ndarray | None = None
        self._vector_buffer: np.ndarray | None = None
        # Which rows hold a real vector: Haystack lets one store hold documents with and without embeddings;
        # rows without one are zeros that dense search never returns. Same length as _vectors.
        self._embedded: np.ndarray | None = None
        self.embedding_dim: int | None = None
        self.embedder_fingerprint: str | None = None
        self._bm25 = None
        self._bm25_stale = True
        self._token_file: Path | None = None
        self._lock = threading.RLock()
        if load and self.path is not None and (self.path / "store.json").is_file():
            self._load()

    # -- Haystack DocumentStore protocol ---------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        # A serialised store names the version it holds, so reloading a pipeline searches the same documents.
        return default_to_dict(self, path=str(self.path) if self.path else None,
                               tokenizer=self.tokenizer.settings(), k1=self.k1, b=self.b,
                               bm25_method=self.bm25_method, vector_index=self.vector_index, hnsw=asdict(self.hnsw),
                               versioned=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmbeddedDocumentStore:
        params = data.get("init_parameters", {})
        if isinstance(params.get("tokenizer"), dict):
            params["tokenizer"] = ChineseBM25Tokenizer(**params["tokenizer"])
        return default_from_dict(cls, data)

    def spec(self) -> dict[str, Any]:
        """The config that reopens this store (what the index stage hands to later stages)."""
        return {"_target_": f"{__name__}.{type(self).__name__}", "path": str(self.path) if self.path else None,
                "tokenizer": {"_target_": "medq.rag.tokenizer.ChineseBM25Tokenizer", **self.tokenizer.settings()},
                "k1": self.k1, "b": self.b, "bm25_method": self.bm25_method,
                "vector_index": self.vector_index, "hnsw": asdict(self.hnsw), "versioned": False}

    def count_documents(self) -> int:
        return len(self._docs)

    def filter_documents(self, filters: dict[str, Any] | None = None) -> list[Document]:
        """The matching documents in index order, with their embeddings (float32 precision)."""
        rows = range(len(self._docs)) if not filters else np.flatnonzero(self._filter_mask(filters))
        return [self._full(int(i)) for i in rows]

    def write_documents(self, documents: list[Document], policy: DuplicatePolicy = DuplicatePolicy.NONE) -> int:
        """The default policy (NONE) overwrites by id. Documents may come with or without an embedding; all
        embeddings in a store have one dimension (the first fixes it), and dense search sees only embedded ones."""
        if not isinstance(documents, list) or not all(isinstance(d, Document) for d in documents):
            found = type(documents).__name__ if not isinstance(documents, list) else \
                next(type(d).__name__ for d in documents if not isinstance(d, Document))
            raise ValueError(f"write_documents expects a list of haystack Documents, got {found}")
        policy = DuplicatePolicy.OVERWRITE if policy == DuplicatePolicy.NONE else policy
        written = 0
        with self._lock:
            self._check_embeddings(documents)
            pending_vectors: dict[int, np.ndarray | None] = {}
            for doc in documents:
                if doc.id in self._position:
                    if policy == DuplicatePolicy.SKIP:
                        continue
                    if policy == DuplicatePolicy.FAIL:
                        raise DuplicateDocumentError(f"document {doc.id} is already in the store")
                    index = self._position[doc.id]
                    self._ann_stale = True
                else:
                    index = len(self._docs)
                    self._position[doc.id] = index
                    self._docs.append(doc)
                    self._hashes.append("")
                    self._tokens.append(None)
                stored = Document(id=doc.id, content=doc.content, meta=dict(doc.meta))
                self._docs[index] = stored
                self._hashes[index] = stored.meta.get("content_hash") or content_hash(stored.content, stored.meta)
                self._tokens[index] = None
                pending_vectors[index] = None if doc.embedding is None else np.asarray(doc.embedding, np.float32)
                written += 1
            self._grow_vectors(pending_vectors)
            self._bm25_stale = True
        return written

    def delete_documents(self, document_ids: list[str]) -> None:
        """Deletes the documents with these ids; ids not in the store are ignored (Haystack's protocol)."""
        with self._lock:
            drop = {self._position[i] for i in document_ids if i in self._position}
            if drop:
                self._keep_rows([i for i in range(len(self._docs)) if i not in drop])

    def delete_all_documents(self, recreate_index: bool = False) -> None:
        """Empties the store; `recreate_index` also forgets its embedding dimension and embedder, as a new store."""
        with self._lock:
            if recreate_index:
                self.clear()
            elif self._docs:
                self._keep_rows([])

    def delete_by_filter(self, filters: dict[str, Any]) -> int:
        """Deletes the documents matching `filters`; returns how many."""
        with self._lock:
            mask = self._filter_mask(filters)
            if mask.any():
                self._keep_rows(np.flatnonzero(~mask).tolist())
            return int(mask.sum())

    def update_by_filter(self, filters: dict[str, Any], meta: dict[str, Any]) -> int:
        """Merges `meta` into the metadata of the documents matching `filters`; returns how many. Content and
        vectors are unchanged; the content hash follows the new metadata (an upsert then sees them as changed)."""
        with self._lock:
            rows = np.flatnonzero(self._filter_mask(filters)).tolist()
            for i in rows:
                doc = self._docs[i]
                merged = {**doc.meta, **meta}
                if "content_hash" in merged:  # the index stage's hash of (content, corpus metadata)
                    merged["content_hash"] = content_hash(doc.content, {k: v for k, v in merged.items()
                                                                        if k != "content_hash"})
                self._docs[i] = Document(id=doc.id, content=doc.content, meta=merged)
                self._hashes[i] = merged.get("content_hash") or content_hash(doc.content, merged)
            return len(rows)

    def _keep_rows(self, keep: list[int]) -> None:
        self._docs = [self._docs[i] for i in keep]
        self._hashes = [self._hashes[i] for i in keep]
        self._tokens = [self._tokens[i] for i in keep]
        if self._vectors is not None:
            self._vectors = self._vectors[keep]
            self._vector_buffer = self._vectors
            self._embedded = self._embedded[keep]
        self._position = {d.id: i for i, d in enumerate(self._docs)}
        self._bm25_stale = True
        self._ann_stale = True

    def _full(self, row: int) -> Document:
        doc = self._docs[row]
        embedding = None
        if self._vectors is not None and self._embedded[row]:
            embedding = self._vectors[row].tolist()
        return Document(id=doc.id, content=doc.content, meta=doc.meta, embedding=embedding)

    # -- medq's searches --------------------------------------------------------------------------------

    def bm25_search(self, query: str, top_k: int = 10, filters: dict[str, Any] | None = None) -> list[Document]:
        if not self._docs or top_k <= 0:
            return []
        bm25 = self._bm25_index()
        ids = [bm25.vocab_dict[t] for t in self.tokenizer(query) if t in bm25.vocab_dict]
        if not ids:
            return []
        scores = bm25.get_scores_from_ids(ids)
        mask = self._filter_mask(filters) if filters else None
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        return self._top(scores, top_k, positive_only=True)

    def embedding_search(self, query_embedding: list[float] | np.ndarray, top_k: int = 10,
                         filters: dict[str, Any] | None = None) -> list[Document]:
        if not self._docs or top_k <= 0:
            return []
        if self._vectors is None:
            raise MedqError("this store has no embeddings: index it with an embedder (index.embedder) "
                            "before using dense retrieval")
        query = np.asarray(query_embedding, dtype=np.float32)
        if query.shape != (self.embedding_dim,):
            raise MedqError(f"query embedding has dimension {query.shape[-1]}, the store's embeddings have "
                            f"{self.embedding_dim}: the query embedder must be the one the index was built with")
        unembedded = int(len(self._embedded) - np.count_nonzero(self._embedded))
        if self.vector_index == "hnsw" and not filters:  # filtered searches stay exact: HNSW would miss matches
            ann = self._ann_index()
            wanted = min(top_k + unembedded, len(self._docs))  # zero rows of unembedded documents are skipped
            ann.hnsw.efSearch = max(self.hnsw.ef_search, wanted)
            scores, rows = ann.search(query[None, :], wanted)
            return [self._hit(int(r), float(sc)) for r, sc in zip(rows[0], scores[0])
                    if r >= 0 and self._embedded[r]][:top_k]
        scores = self._vectors @ query
        if filters:
            scores = np.where(self._filter_mask(filters), scores, -np.inf)
        if unembedded:
            scores = np.where(self._embedded, scores, -np.inf)
        return self._top(scores, top_k, positive_only=False)

    async def bm25_search_async(self, query: str, top_k: int = 10,
                                filters: dict[str, Any] | None = None) -> list[Document]:
        return await asyncio.to_thread(self.bm25_search, query, top_k, filters)

    async def embedding_search_async(self, query_embedding: list[float], top_k: int = 10,
                                     filters: dict[str, Any] | None = None) -> list[Document]:
        return await asyncio.to_thread(self.embedding_search, query_embedding, top_k, filters)

    # -- what the index stage needs -------------------------------------------------------------------

    def content_hashes(self) -> dict[str, str]:
        return {d.id: h for d, h in zip(self._docs, self._hashes)}

    def fingerprint(self) -> str:
        return corpus_fingerprint(self.content_hashes())

    def set_embedder_fingerprint(self, fingerprint: str | None) -> None:
        self.embedder_fingerprint = fingerprint

    def prepare(self, embedding_dim: int | None, embedder_fingerprint: str | None = None) -> bool:
        """Called by the index stage before writing: a different embedder invalidates every stored vector, so the
        store is emptied and re-indexed. Returns whether stored vectors must be replaced (never, after clearing)."""
        if self._docs and embedder_fingerprint != self.embedder_fingerprint:
            log.info("store %s was embedded with %s, the config uses %s: re-indexing every document", self.path,
                     self.embedder_fingerprint, embedder_fingerprint)
            self.clear()
        self.embedder_fingerprint = embedder_fingerprint
        return False

    def describe(self) -> dict[str, Any]:
        return {"type": "embedded", "path": str(self.path) if self.path else None,
                "home": str(self.home) if self.home else None, "documents": len(self._docs),
                "embedding_dim": self.embedding_dim, "embedder": self.embedder_fingerprint,
                "tokenizer": self.tokenizer.settings(), "bm25": {"k1": self.k1, "b": self.b,
                                                                 "method": self.bm25_method}}

    def version_address(self) -> str:
        """What a version is named by: the documents (content hashes), the embedder and every setting that
        changes what is stored. Two saves with the same address hold the same store."""
        return sha256_json({"format": FORMAT_VERSION, "fingerprint": self.fingerprint(),
                            "embedder": self.embedder_fingerprint, "embedding_dim": self.embedding_dim,
                            "tokenizer": self.tokenizer.settings(), "bm25": [self.k1, self.b, self.bm25_method],
                            "hnsw": asdict(self.hnsw) if self.vector_index == "hnsw" else None})[:24]

    def save(self, path: str | Path | None = None) -> Path:
        """Write the whole store atomically: a crash leaves the previous version in place. Versioned (and no
        explicit `path`), publish a new immutable version under `home` instead and point `latest` at it."""
        if path is None and self.versioned and self.home is not None:
            return self._publish_version()
        target = Path(path) if path else self.path
        if target is None:
            raise MedqError("EmbeddedDocumentStore.save needs a path (index.store.path)")
        with atomic_path(target) as staged:
            self._write_files(staged)
        self.path = target
        return target

    def _publish_version(self) -> Path:
        assert self.home is not None
        with self._lock:
            address = self.version_address()
            versions = self.home / "versions"
            target = versions / address
            if not (target / "store.json").is_file():
                versions.mkdir(parents=True, exist_ok=True)
                staging = Path(tempfile.mkdtemp(prefix=f".{address}.", suffix=".tmp", dir=versions))
                try:
                    self._write_files(staging / address)
                    try:
                        os.rename(staging / address, target)
                    except OSError:  # another run published the same address first: same content, keep theirs
                        if not (target / "store.json").is_file():
                            raise
                finally:
                    shutil.rmtree(staging, ignore_errors=True)
            write_text_atomic(self.home / "latest", address + "\n")
            self.path = target
            log.info("store %s: version %s", self.home, address)
            return target

    def _latest_version(self) -> Path | None:
        assert self.home is not None
        pointer = self.home / "latest"
        if not pointer.is_file():
            return None
        version = self.home / "versions" / pointer.read_text(encoding="utf-8").strip()
        if not (version / "store.json").is_file():
            raise MedqError(f"{pointer} names version {version.name}, which is not in {version.parent}: restore it "
                            "or delete the pointer to index from scratch")
        return version

    def _write_files(self, staged: Path) -> None:
        with self._lock:
            bm25 = self._bm25_index() if self._docs else None
            self._ensure_tokens()
            staged.mkdir(parents=True)
            with open(staged / "documents.jsonl", "w", encoding="utf-8") as handle:
                handle.writelines(
                    json.dumps({"id": doc.id, "content": doc.content, "meta": doc.meta, "hash": digest},
                               ensure_ascii=False, default=str) + "\n"
                    for doc, digest in zip(self._docs, self._hashes))
            with open(staged / "tokens.jsonl", "w", encoding="utf-8") as handle:
                handle.writelines(json.dumps({"id": doc.id, "hash": digest, "tokens": tokens}, ensure_ascii=False)
                                  + "\n" for doc, digest, tokens in zip(self._docs, self._hashes, self._tokens))
            if self._vectors is not None:
                np.save(staged / "embeddings.npy", self._vectors)
                if not self._embedded.all():
                    np.save(staged / "embedded.npy", self._embedded)
            if bm25 is not None:
                bm25.save(str(staged / "bm25"), show_progress=False)
            if self.vector_index == "hnsw" and self._vectors is not None and len(self._docs):
                import faiss

                faiss.write_index(self._ann_index(), str(staged / "vectors.hnsw"))
            (staged / "store.json").write_text(json.dumps({
                "format": FORMAT_VERSION, "documents": len(self._docs), "embedding_dim": self.embedding_dim,
                "embedder": self.embedder_fingerprint, "tokenizer": self.tokenizer.settings(),
                "bm25": {"k1": self.k1, "b": self.b, "method": self.bm25_method},
                "hnsw": asdict(self.hnsw) if self.vector_index == "hnsw" else None,
                "fingerprint": self.fingerprint()}, indent=2), encoding="utf-8")

    # -- internals ---------------------------------------------------------------------------------------

    def _load(self) -> None:
        assert self.path is not None
        info = json.loads((self.path / "store.json").read_text(encoding="utf-8"))
        if info.get("format") != FORMAT_VERSION:
            raise MedqError(f"{self.path}/store.json: store format {info.get('format')} is not {FORMAT_VERSION}; "
                            "rebuild the index (force=true)")
        if info["tokenizer"] != self.tokenizer.settings() or info["bm25"] != {"k1": self.k1, "b": self.b,
                                                                             "method": self.bm25_method}:
            log.info("store %s was built with other BM25 settings; its BM25 index will be rebuilt", self.path)
            reuse_bm25 = False
        else:
            reuse_bm25 = True
        for _, row in read_jsonl(self.path / "documents.jsonl", what="stored documents"):
            self._position[row["id"]] = len(self._docs)
            self._docs.append(Document(id=row["id"], content=row["content"], meta=row["meta"]))
            self._hashes.append(row["hash"])
            self._tokens.append(None)
        if (self.path / "embeddings.npy").is_file():
            self._vectors = np.load(self.path / "embeddings.npy")
            self._vector_buffer = self._vectors
            self.embedding_dim = int(self._vectors.shape[1])
            embedded = self.path / "embedded.npy"  # absent: every document has a vector
            self._embedded = np.load(embedded) if embedded.is_file() else np.ones(len(self._docs), dtype=bool)
        self.embedder_fingerprint = info.get("embedder")
        hnsw_file = self.path / "vectors.hnsw"
        if reuse_bm25 and (self.path / "tokens.jsonl").is_file():
            self._token_file = self.path / "tokens.jsonl"
        if self.vector_index == "hnsw" and hnsw_file.is_file() and info.get("hnsw") == asdict(self.hnsw):
            import faiss

            self._ann = faiss.read_index(str(hnsw_file))
            self._ann_stale = self._ann.ntotal != len(self._docs)
        if reuse_bm25 and (self.path / "bm25").is_dir():
            import bm25s

            self._bm25 = bm25s.BM25.load(str(self.path / "bm25"), show_progress=False, verbosity=0)
            self._bm25_stale = False

    def _grow_vectors(self, pending: dict[int, np.ndarray | None]) -> None:
        """Set the rows of written documents (None: no vector) and keep the matrix one row per document."""
        n = len(self._docs)
        if self._vectors is None:
            dims = {v.shape[0] for v in pending.values() if v is not None}
            if not dims:
                return  # no vector anywhere yet: nothing to keep
            self._vectors = np.zeros((0, dims.pop()), dtype=np.float32)
            self._vector_buffer = self._vectors
            self._embedded = np.zeros(0, dtype=bool)
        dim = self._vectors.shape[1]
        current = self._vectors
        buffer = self._vector_buffer if self._vector_buffer is not None else current
        if buffer.shape[0] < n:  # grow geometrically: batches of upserts copy the matrix O(log n) times
            grown = np.zeros((max(n, 2 * buffer.shape[0]), dim), dtype=np.float32)
            grown[: current.shape[0]] = current
            buffer = grown
        self._vector_buffer = buffer
        self._vectors = buffer[:n]
        embedded = np.zeros(n, dtype=bool)
        embedded[: len(self._embedded)] = self._embedded
        self._embedded = embedded
        self.embedding_dim = dim
        for row, vector in pending.items():
            if vector is None:
                self._vectors[row] = 0.0
                self._embedded[row] = False
            else:
                self._vectors[row] = vector
                self._embedded[row] = True

    def _check_embeddings(self, documents: list[Document]) -> None:
        """Refuse a write that would give the store embeddings of two dimensions (before changing anything)."""
        dims = {len(d.embedding) for d in documents if d.embedding is not None}
        if self.embedding_dim is not None:
            dims.add(self.embedding_dim)
        if len(dims) > 1:
            raise MedqError(f"embeddings of dimensions {sorted(dims)} in one store (it holds "
                            f"{self.embedding_dim or 'none yet'}): re-index with one embedder (a different embedder "
                            "needs a new store path)")

    def _bm25_index(self):
        with self._lock:
            if self._bm25 is None or self._bm25_stale:
                import bm25s

                self._ensure_tokens()
                bm25 = bm25s.BM25(k1=self.k1, b=self.b, method=self.bm25_method)
                bm25.index(self._tokens, show_progress=False)
                self._bm25, self._bm25_stale = bm25, False
            return self._bm25

    def _ensure_tokens(self) -> None:
        """Tokens of every document: from the saved tokens.jsonl where the content is unchanged, else jieba."""
        if self._token_file is not None and any(t is None for t in self._tokens):
            for _, row in read_jsonl(self._token_file, what="stored BM25 tokens"):
                index = self._position.get(row["id"])
                if index is not None and self._tokens[index] is None and self._hashes[index] == row["hash"]:
                    self._tokens[index] = row["tokens"]
            self._token_file = None
        for i, doc in enumerate(self._docs):
            if self._tokens[i] is None:
                self._tokens[i] = self.tokenizer(doc.content or "")

    def _filter_mask(self, filters: dict[str, Any]) -> np.ndarray:
        # Metadata filters are evaluated per document (Haystack's reference semantics); the search itself stays
        # vectorised. Use OpenSearch when filtered search over a large corpus matters.
        return np.fromiter((document_matches_filter(filters, d) for d in self._docs), dtype=bool,
                           count=len(self._docs))

    def _top(self, scores: np.ndarray, top_k: int, positive_only: bool) -> list[Document]:
        k = min(top_k, scores.shape[0])
        candidates = np.argpartition(-scores, k - 1)[:k]
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        results = []
        for i in order:
            score = float(scores[i])
            if (positive_only and score <= 0.0) or score == -np.inf:
                continue
            results.append(self._hit(int(i), score))
        return results

    def _hit(self, row: int, score: float) -> Document:
        doc = self._docs[row]
        return Document(id=doc.id, content=doc.content, meta=doc.meta, score=score)

    def _ann_index(self):
        """The HNSW index, built lazily; appended rows are added, overwrites and deletes rebuild it."""
        with self._lock:
            try:
                import faiss
            except ImportError:
                raise MedqError("vector_index=hnsw needs faiss: pip install faiss-cpu") from None
            n = self._vectors.shape[0]
            if self._ann is None or self._ann_stale or self._ann.ntotal > n:
                self._ann = faiss.IndexHNSWFlat(self.embedding_dim, self.hnsw.m, faiss.METRIC_INNER_PRODUCT)
                self._ann.hnsw.efConstruction = self.hnsw.ef_construction
                self._ann_stale = False
            if self._ann.ntotal < n:
                self._ann.add(np.ascontiguousarray(self._vectors[self._ann.ntotal:]))
            return self._ann

    def clear(self) -> None:
        with self._lock:
            home, path = self.home, self.path
            self.__init__(path=None, tokenizer=self.tokenizer, k1=self.k1, b=self.b, bm25_method=self.bm25_method,
                          vector_index=self.vector_index, hnsw=self.hnsw, versioned=self.versioned, load=False)
            self.home, self.path = home, path

    def remove_files(self) -> None:
        """Delete the store's folder: the home with all its versions when versioned."""
        folder = self.home if self.versioned else self.path
        if folder is not None and folder.exists():
            shutil.rmtree(folder)
