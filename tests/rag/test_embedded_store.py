"""What is particular to the embedded store: persistence without re-embedding, its refusals, the protocol."""

from __future__ import annotations

import numpy as np
import pytest
from haystack import Document
from haystack.document_stores.errors import DuplicateDocumentError
from haystack.document_stores.types import DuplicatePolicy

from medq.errors import MedqError
from medq.rag import CharNgramHashingEmbedder, ChineseBM25Tokenizer, EmbeddedDocumentStore, RetrievePipeline

from .conftest import CORPUS, corpus_documents


class CountingEmbedder(CharNgramHashingEmbedder):
    def __init__(self):
        super().__init__(dim=32)
        self.documents_embedded = 0

    def embed_documents(self, texts):
        self.documents_embedded += len(texts)
        return super().embed_documents(texts)


def test_reloads_from_disk_without_re_embedding_or_re_tokenising(tmp_path):
    embedder = CountingEmbedder()
    store = EmbeddedDocumentStore(str(tmp_path / "s"))
    store.prepare(embedder.dim, embedder.fingerprint())
    store.write_documents(corpus_documents(embedder))
    store.save()
    assert embedder.documents_embedded == len(CORPUS)
    before = RetrievePipeline(store, embedder, top_k=5, candidates=10).retrieve("胃痛反酸").evidence

    reopened = EmbeddedDocumentStore(str(tmp_path / "s"))
    assert reopened.count_documents() == len(CORPUS) and reopened.embedding_dim == 32
    assert all(tokens is None for tokens in reopened._tokens), "BM25 comes from the saved bm25s index"
    after = RetrievePipeline(reopened, embedder, top_k=5, candidates=10).retrieve("胃痛反酸").evidence
    assert embedder.documents_embedded == len(CORPUS), "reloading must not embed again"
    assert [(e.doc_id, e.meta["department"]) for e in after] == [(e.doc_id, e.meta["department"]) for e in before]
    assert reopened.fingerprint() == store.fingerprint() and reopened.embedder_fingerprint == embedder.fingerprint()


def test_save_is_atomic_and_replaces_the_previous_version(tmp_path):
    store = EmbeddedDocumentStore(str(tmp_path / "s"))
    store.write_documents(corpus_documents())
    store.save()
    store.delete_documents(["d-dog"])
    store.save()
    assert EmbeddedDocumentStore(str(tmp_path / "s")).count_documents() == len(CORPUS) - 1
    # versioned (the default): `s` is the store's home; each save adds an immutable version and moves `latest`
    assert [p.name for p in tmp_path.iterdir()] == ["s"], "no staging folders left behind"
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["latest", "versions"]
    assert len(list((tmp_path / "s" / "versions").iterdir())) == 2


def test_unversioned_save_swaps_a_link_to_its_current_version(tmp_path):
    store = EmbeddedDocumentStore(str(tmp_path / "s"), versioned=False)
    store.write_documents(corpus_documents())
    store.save()
    store.delete_documents(["d-dog"])
    store.save()
    assert EmbeddedDocumentStore(str(tmp_path / "s"), versioned=False).count_documents() == len(CORPUS) - 1
    # `s` is a link to its current version in `.s.versions` (medq/artifacts.py: atomic folder replacement)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".s.versions", "s"], "no staging folders left behind"
    assert (tmp_path / "s").is_symlink()


def test_duplicate_policies_and_missing_ids():
    store = EmbeddedDocumentStore()
    store.write_documents(corpus_documents())
    assert store.write_documents([Document(id="d-dog", content="x")], policy=DuplicatePolicy.SKIP) == 0
    with pytest.raises(DuplicateDocumentError):
        store.write_documents([Document(id="d-dog", content="x")], policy=DuplicatePolicy.FAIL)
    store.delete_documents(["nope"])  # Haystack's protocol: an id that is not there is ignored
    assert store.count_documents() == len(CORPUS)
    assert store.filter_documents({"field": "meta.department", "operator": "==", "value": "妇科"})[0].id == "d-hpv"


def test_mismatched_embeddings_are_refused_and_unembedded_documents_are_not_searched_densely():
    embedder = CharNgramHashingEmbedder(dim=16)
    store = EmbeddedDocumentStore()
    store.write_documents(corpus_documents(embedder))
    with pytest.raises(MedqError, match=r"embeddings of dimensions \[8, 16\] in one store \(it holds 16\)"):
        store.write_documents([Document(id="n", content="新", embedding=[0.1] * 8)])
    assert store.count_documents() == len(CORPUS), "a refused write changes nothing"
    # Haystack allows documents without an embedding next to embedded ones: BM25 finds them, dense search never
    query = embedder.embed_queries(["被狗咬伤后立即用肥皂水冲洗伤口"])[0]
    store.write_documents([Document(id="d-dog", content="被狗咬伤后立即用肥皂水冲洗伤口十五分钟。")])
    assert "d-dog" not in [d.id for d in store.embedding_search(query, top_k=len(CORPUS))]
    assert len(store.embedding_search(query, top_k=len(CORPUS))) == len(CORPUS) - 1
    assert [d.id for d in store.bm25_search("肥皂水冲洗伤口", top_k=1)] == ["d-dog"]
    assert store.filter_documents({"field": "id", "operator": "==", "value": "d-dog"})[0].embedding is None


def test_a_different_embedder_clears_the_store_for_re_embedding(tmp_path):
    store = EmbeddedDocumentStore(str(tmp_path / "s"))
    store.prepare(16, "a")
    store.write_documents(corpus_documents(CharNgramHashingEmbedder(dim=16)))
    store.prepare(16, "a")
    assert store.count_documents() == len(CORPUS)
    store.prepare(32, "b")
    assert store.count_documents() == 0 and store.content_hashes() == {}


def test_dense_search_without_embeddings_is_a_clear_error():
    store = EmbeddedDocumentStore()
    store.write_documents(corpus_documents())
    with pytest.raises(MedqError, match="no embeddings"):
        store.embedding_search(np.ones(4), top_k=3)


def test_round_trips_through_haystack_serialisation(tmp_path):
    store = EmbeddedDocumentStore(str(tmp_path / "s"), k1=1.5)
    again = EmbeddedDocumentStore.from_dict(store.to_dict())
    assert again.k1 == 1.5 and again.tokenizer.settings() == store.tokenizer.settings()


def test_hnsw_vector_index_finds_the_same_neighbours_and_persists(tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    docs = [Document(id=f"v{i}", content=f"文档{i}", embedding=v.tolist()) for i, v in enumerate(vectors)]
    exact = EmbeddedDocumentStore()
    exact.write_documents(docs)
    hnsw = EmbeddedDocumentStore(str(tmp_path / "h"), vector_index="hnsw", hnsw={"m": 16, "ef_search": 100})
    hnsw.write_documents(docs[:200])
    hnsw.embedding_search(vectors[0], top_k=5)  # builds the graph on 200 rows
    hnsw.write_documents(docs[200:])            # appended rows are added to it
    queries = rng.standard_normal((20, 16)).astype(np.float32)
    for q in queries:
        assert [d.id for d in hnsw.embedding_search(q, top_k=5)] == [d.id for d in exact.embedding_search(q, top_k=5)]
    hnsw.delete_documents(["v0"])
    assert "v0" not in [d.id for d in hnsw.embedding_search(vectors[0], top_k=3)], "a delete rebuilds the graph"
    saved = hnsw.save()
    assert saved.parent == tmp_path / "h" / "versions" and (saved / "vectors.hnsw").is_file()
    reopened = EmbeddedDocumentStore(str(tmp_path / "h"), vector_index="hnsw", hnsw={"m": 16, "ef_search": 100})
    assert reopened._ann is not None and not reopened._ann_stale, "the graph is loaded, not rebuilt"
    assert [d.id for d in reopened.embedding_search(queries[0], top_k=5)] == \
        [d.id for d in hnsw.embedding_search(queries[0], top_k=5)]


def test_upsert_after_reload_re_tokenises_only_changed_documents(tmp_path, monkeypatch):
    store = EmbeddedDocumentStore(str(tmp_path / "s"))
    store.write_documents(corpus_documents())
    store.save()
    reopened = EmbeddedDocumentStore(str(tmp_path / "s"))
    calls = []
    original = ChineseBM25Tokenizer.__call__
    monkeypatch.setattr(ChineseBM25Tokenizer, "__call__", lambda self, text: calls.append(text) or original(self, text))
    reopened.write_documents([Document(id="d-ct", content="银屑病需要长期规范治疗。")])
    assert [d.id for d in reopened.bm25_search("银屑病", top_k=2)] == ["d-ct"]
    assert [d.id for d in reopened.bm25_search("狂犬病疫苗", top_k=1)] == ["d-dog"]
    assert [c for c in calls if c != "银屑病" and c != "狂犬病疫苗"] == ["银屑病需要长期规范治疗。"]
