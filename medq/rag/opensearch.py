"""OpenSearch as medq's production store: the same searches as the embedded store, over opensearch-haystack.

What medq fixes on top of `OpenSearchDocumentStore` (read from its source, see docs/rag.md):
- the index is created by medq with a Chinese analyser on `content` (`cjk`: character bigrams) and a `lucene`
  HNSW `knn_vector` (the Maven build of k-NN has no native faiss/nmslib), and medq's settings in `_meta`;
- an existing index whose dimension, analyser or engine differs from the config is refused, never mixed;
- BM25 searches `content` only (opensearch-haystack's default multi_match also hits keyword metadata);
- an unreachable cluster is retried with backoff, then fails with one line naming the URL;
- `write_documents` with the default policy overwrites by id, as the embedded store does (opensearch-haystack's
  default fails on an existing id).
Documents come back without their embeddings (opensearch-haystack's `return_embedding=False`): vectors stay in the
cluster, where dense search uses them. Haystack's conformance suite runs on this store (tests/rag/
test_store_conformance.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any, Literal

from haystack import Document
from haystack.document_stores.types import DuplicatePolicy
from haystack_integrations.document_stores.opensearch import OpenSearchDocumentStore
from haystack_integrations.document_stores.opensearch.filters import normalize_filters

from medq.errors import MedqError
from medq.rag.store import corpus_fingerprint

log = logging.getLogger(__name__)


class OpenSearchStore(OpenSearchDocumentStore):
    def __init__(self, url: str = "http://127.0.0.1:9200", index: str = "medq",
                 analyzer: Literal["cjk", "smartcn", "standard"] = "cjk", embedding_dim: int | None = None,
                 space_type: Literal["innerproduct", "cosinesimil", "l2"] = "innerproduct",
                 shards: int = 1, replicas: int = 0, username_env: str = "OPENSEARCH_USERNAME",
                 password_env: str = "OPENSEARCH_PASSWORD", verify_certs: bool = True, timeout_s: int = 30,
                 connect_retries: int = 3, backoff_s: float = 0.5):
        self.url, self.index_name, self.analyzer = url, index, analyzer
        self.space_type, self.shards, self.replicas = space_type, shards, replicas
        self.connect_retries, self.backoff_s = connect_retries, backoff_s
        self.embedder_fingerprint: str | None = None
        self.embedding_dim = embedding_dim
        user, password = os.environ.get(username_env), os.environ.get(password_env)
        super().__init__(hosts=[url], index=index, embedding_dim=embedding_dim or 1, create_index=False,
                         http_auth=(user, password) if user and password else None,
                         use_ssl=url.startswith("https"), verify_certs=verify_certs, timeout=timeout_s)
        self._prepared = False
        self._spec = {"url": url, "index": index, "analyzer": analyzer, "embedding_dim": embedding_dim,
                      "space_type": space_type, "shards": shards, "replicas": replicas,
                      "username_env": username_env, "password_env": password_env, "verify_certs": verify_certs,
                      "timeout_s": timeout_s, "connect_retries": connect_retries, "backoff_s": backoff_s}

    def spec(self) -> dict[str, Any]:
        """The config that reopens this index (what the index stage hands to later stages)."""
        return {"_target_": f"{__name__}.{type(self).__name__}", **self._spec, "embedding_dim": self.embedding_dim}

    # -- connection and index ---------------------------------------------------------------------------

    def _with_retry(self, what: str, call):
        from opensearchpy.exceptions import ConnectionError as OSConnectionError
        from opensearchpy.exceptions import ConnectionTimeout

        delay = self.backoff_s
        for attempt in range(self.connect_retries + 1):
            try:
                return call()
            except (OSConnectionError, ConnectionTimeout) as exc:
                if attempt == self.connect_retries:
                    raise MedqError(f"OpenSearch at {self.url} is unreachable ({what} failed after "
                                    f"{attempt + 1} attempts: {type(exc).__name__}): start it with `bash "
                                    "scripts/opensearch.sh start` or set index.store.url") from None
                log.warning("OpenSearch at %s: %s failed (%s); retrying in %.1fs", self.url, what,
                            type(exc).__name__, delay)
                time.sleep(delay)
                delay *= 2

    def _ensure_initialized(self) -> None:
        if not self._client:
            from opensearchpy import OpenSearch

            self._client = OpenSearch(hosts=self._hosts, http_auth=self._resolve_http_auth(),
                                      use_ssl=self._use_ssl, verify_certs=self._verify_certs,
                                      timeout=self._timeout, **self._kwargs)
            self._with_retry("connect", self._client.info)
        if not self._prepared:
            self.prepare(self.embedding_dim)

    def _mappings_for(self, embedding_dim: int | None) -> dict[str, Any]:
        properties: dict[str, Any] = {"content": {"type": "text", "analyzer": self.analyzer},
                                      "content_hash": {"type": "keyword"}}
        if embedding_dim:
            properties["embedding"] = {"type": "knn_vector", "dimension": embedding_dim,
                                       "method": {"name": "hnsw", "engine": "lucene", "space_type": self.space_type}}
        return {"properties": properties,
                "dynamic_templates": [{"strings": {"match_mapping_type": "string", "mapping": {"type": "keyword"}}}],
                "_meta": {"medq": {"analyzer": self.analyzer, "embedding_dim": embedding_dim,
                                   "embedder": self.embedder_fingerprint}}}

    def prepare(self, embedding_dim: int | None, embedder_fingerprint: str | None = None) -> bool:
        """Create the index with medq's mapping, or check that the existing one matches it. True when the index
        holds vectors of another embedder (same dimension), which the caller must re-embed."""
        if not self._client:
            self._prepared = True  # _ensure_initialized calls back here once connected
            self._ensure_initialized()
            self._prepared = False
        self.embedding_dim = embedding_dim
        if embedder_fingerprint is not None:
            self.embedder_fingerprint = embedder_fingerprint
        client = self._client
        exists = self._with_retry("index lookup", lambda: client.indices.exists(index=self.index_name))
        if not exists:
            body = {"settings": {"index": {"knn": True, "number_of_shards": self.shards,
                                           "number_of_replicas": self.replicas}},
                    "mappings": self._mappings_for(embedding_dim)}
            self._with_retry("create index", lambda: client.indices.create(index=self.index_name, body=body))
            self._prepared = True
            return False
        else:
            mapping = client.indices.get_mapping(index=self.index_name)
            mapping = next(iter(mapping.values()))["mappings"]
            properties = mapping.get("properties", {})
            found_analyzer = properties.get("content", {}).get("analyzer", "standard")
            if found_analyzer != self.analyzer:
                raise MedqError(f"OpenSearch index '{self.index_name}' at {self.url} analyses content with "
                                f"'{found_analyzer}', the config says '{self.analyzer}': delete the index or use "
                                "another index name (index.store.index)")
            vector = properties.get("embedding")
            found_dim = vector.get("dimension") if vector else None
            if embedding_dim and found_dim != embedding_dim:
                raise MedqError(f"OpenSearch index '{self.index_name}' at {self.url} holds {found_dim}-dimension "
                                f"embeddings, the embedder makes {embedding_dim}: delete the index or use another "
                                "index name (index.store.index)")
            engine = (vector or {}).get("method", {}).get("engine")
            if vector and engine != "lucene":
                raise MedqError(f"OpenSearch index '{self.index_name}' at {self.url} uses k-NN engine '{engine}', "
                                "medq needs 'lucene': delete the index or use another index name")
            self.embedding_dim = found_dim
            stored = mapping.get("_meta", {}).get("medq", {}).get("embedder")
            if embedder_fingerprint is None:
                self.embedder_fingerprint = stored
            elif stored and stored != embedder_fingerprint:
                self._prepared = True
                return True  # same dimension, other embedder: every stored vector must be replaced
        self._prepared = True
        return False

    def write_documents(self, documents: list[Document], policy: DuplicatePolicy = DuplicatePolicy.NONE,
                        refresh: Literal["wait_for", True, False] = "wait_for") -> int:
        policy = DuplicatePolicy.OVERWRITE if policy == DuplicatePolicy.NONE else policy
        return super().write_documents(documents, policy, refresh)

    async def write_documents_async(self, documents: list[Document], policy: DuplicatePolicy = DuplicatePolicy.NONE,
                                    refresh: Literal["wait_for", True, False] = "wait_for") -> int:
        policy = DuplicatePolicy.OVERWRITE if policy == DuplicatePolicy.NONE else policy
        return await super().write_documents_async(documents, policy, refresh)

    def set_embedder_fingerprint(self, fingerprint: str | None) -> None:
        self._ensure_initialized()
        self.embedder_fingerprint = fingerprint
        meta = {"medq": {"analyzer": self.analyzer, "embedding_dim": self.embedding_dim, "embedder": fingerprint}}
        self._client.indices.put_mapping(index=self.index_name, body={"_meta": meta})

    def delete_index(self) -> None:
        self._ensure_initialized()
        self._client.indices.delete(index=self.index_name, ignore_unavailable=True)
        self._prepared = False

    # -- searches -----------------------------------------------------------------------------------------

    def _bm25_body(self, query: str, top_k: int, filters: dict[str, Any] | None) -> dict[str, Any]:
        query_part: dict[str, Any] = {"bool": {"must": [{"match": {"content": {"query": query}}}]}}
        if filters:
            query_part["bool"]["filter"] = normalize_filters(filters, nested_fields=self._resolved_nested_fields)
        return {"query": query_part, "size": top_k, "_source": {"excludes": ["embedding"]}}

    def _check_vector(self, query_embedding) -> list[float]:
        vector = [float(x) for x in query_embedding]
        if not self.embedding_dim:
            raise MedqError(f"OpenSearch index '{self.index_name}' has no embeddings: index it with an embedder "
                            "(index.embedder) before using dense retrieval")
        if len(vector) != self.embedding_dim:
            raise MedqError(f"query embedding has dimension {len(vector)}, the index's embeddings have "
                            f"{self.embedding_dim}: the query embedder must be the one the index was built with")
        return vector

    def bm25_search(self, query: str, top_k: int = 10, filters: dict[str, Any] | None = None) -> list[Document]:
        self._ensure_initialized()
        if top_k <= 0:
            return []
        body = self._bm25_body(query, top_k, filters)
        return self._with_retry("search", lambda: self._search_documents(body))

    def embedding_search(self, query_embedding, top_k: int = 10,
                         filters: dict[str, Any] | None = None) -> list[Document]:
        self._ensure_initialized()
        if top_k <= 0:
            return []
        vector = self._check_vector(query_embedding)
        return self._with_retry("search", lambda: self._embedding_retrieval(vector, filters=filters, top_k=top_k))

    async def bm25_search_async(self, query: str, top_k: int = 10,
                                filters: dict[str, Any] | None = None) -> list[Document]:
        await asyncio.to_thread(self._ensure_initialized)
        await self._ensure_initialized_async()
        if top_k <= 0:
            return []
        return await self._search_documents_async(self._bm25_body(query, top_k, filters))

    async def embedding_search_async(self, query_embedding, top_k: int = 10,
                                     filters: dict[str, Any] | None = None) -> list[Document]:
        await asyncio.to_thread(self._ensure_initialized)
        if top_k <= 0:
            return []
        vector = self._check_vector(query_embedding)
        return await self._embedding_retrieval_async(vector, filters=filters, top_k=top_k)

    # -- what the index stage needs ---------------------------------------------------------------------

    def content_hashes(self) -> dict[str, str]:
        from opensearchpy.helpers import scan

        self._ensure_initialized()
        hits = scan(self._client, index=self.index_name, query={"query": {"match_all": {}}},
                    _source=["content_hash"], size=2000)
        return {hit["_id"]: hit["_source"].get("content_hash", "") for hit in hits}

    def fingerprint(self) -> str:
        return corpus_fingerprint(self.content_hashes())

    def refresh(self) -> None:
        self._ensure_initialized()
        self._client.indices.refresh(index=self.index_name)

    def save(self, path=None) -> None:  # OpenSearch persists by itself
        self.refresh()

    def describe(self) -> dict[str, Any]:
        return {"type": "opensearch", "url": self.url, "index": self.index_name, "analyzer": self.analyzer,
                "embedding_dim": self.embedding_dim, "engine": "lucene", "space_type": self.space_type,
                "shards": self.shards, "replicas": self.replicas, "embedder": self.embedder_fingerprint,
                "documents": self.count_documents()}
