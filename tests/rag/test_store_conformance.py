"""Haystack's own DocumentStore conformance suite, run on both medq stores.

`DocumentStoreBaseExtendedTests` is the protocol (count/write/delete/filter with every filter operator) plus the
extended operations both stores implement (delete_all_documents, delete_by_filter, update_by_filter). Where a
store's behaviour is a documented choice rather than the suite's default, the test is overridden here with that
behaviour and a test of it:
- `test_write_documents`: the suite leaves the default policy to the store (it raises NotImplementedError); both
  stores overwrite by id (DuplicatePolicy.NONE = OVERWRITE), tested below.
- `assert_documents_are_equal` (embedded): vectors are stored as float32 (one NumPy matrix), so a returned
  embedding equals the written one to float32 precision, not bit for bit; everything else is compared exactly.
- `assert_documents_are_equal` (OpenSearch): results come back in the cluster's order with a score and without
  their embeddings (opensearch-haystack's return_embedding=False: vectors stay in the cluster); compared sorted by
  id, score and embedding left out, as opensearch-haystack's own suite does. Tested below: the vectors are there
  for dense search.
"""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from haystack import Document
from haystack.testing.document_store import DocumentStoreBaseExtendedTests

from medq.rag import EmbeddedDocumentStore


def _without_embedding(doc: Document) -> dict:
    data = doc.to_dict(flatten=False)
    data.pop("embedding")
    return data


def _write_default_policy_overwrites(document_store) -> None:
    doc = Document(id="1", content="test doc")
    assert document_store.write_documents([doc]) == 1
    changed = Document(id="1", content="changed doc")
    assert document_store.write_documents([changed]) == 1
    assert [d.content for d in document_store.filter_documents()] == ["changed doc"]


class TestEmbeddedStoreConformance(DocumentStoreBaseExtendedTests):
    @pytest.fixture
    def document_store(self, tmp_path):
        return EmbeddedDocumentStore(path=str(tmp_path / "store"))

    @staticmethod
    def assert_documents_are_equal(received: list[Document], expected: list[Document]):
        assert [_without_embedding(d) for d in received] == [_without_embedding(d) for d in expected]
        for got, want in zip(received, expected):
            assert (got.embedding is None) == (want.embedding is None), got.id
            if want.embedding is not None:
                np.testing.assert_array_equal(np.asarray(got.embedding, dtype=np.float32),
                                              np.asarray(want.embedding, dtype=np.float32))

    def test_write_documents(self, document_store):
        _write_default_policy_overwrites(document_store)

    def test_documents_survive_save_and_reload_with_and_without_embeddings(self, document_store, filterable_docs):
        document_store.write_documents(filterable_docs)
        document_store.save()
        reopened = EmbeddedDocumentStore(path=str(document_store.home))
        self.assert_documents_are_equal(reopened.filter_documents(), document_store.filter_documents())
        # dense search sees only the documents that have a vector
        hits = reopened.embedding_search(filterable_docs[0].embedding, top_k=len(filterable_docs))
        assert {d.id for d in hits} == {d.id for d in filterable_docs if d.embedding is not None}


@pytest.mark.usefixtures("opensearch_url")
class TestOpenSearchStoreConformance(DocumentStoreBaseExtendedTests):
    @pytest.fixture
    def document_store(self, request):
        from medq.rag.opensearch import OpenSearchStore

        store = OpenSearchStore(url=request.getfixturevalue("opensearch_url"),
                                index=f"medq-conformance-{uuid.uuid4().hex[:10]}", embedding_dim=768)
        store.prepare(768)
        yield store
        store.delete_index()

    @staticmethod
    def assert_documents_are_equal(received: list[Document], expected: list[Document]):
        received = sorted(received, key=lambda d: d.id)
        expected = sorted(expected, key=lambda d: d.id)
        assert len(received) == len(expected)
        for got, want in zip(received, expected):
            got_data, want_data = _without_embedding(got), _without_embedding(want)
            got_data.pop("score"), want_data.pop("score")
            assert got_data == want_data
            assert got.embedding is None

    def test_write_documents(self, document_store):
        _write_default_policy_overwrites(document_store)

    def test_embeddings_stay_in_the_cluster_for_dense_search(self, document_store, filterable_docs):
        document_store.write_documents(filterable_docs)
        assert all(d.embedding is None for d in document_store.filter_documents())
        target = next(d for d in filterable_docs if d.embedding is not None and d.meta.get("chapter") == "intro")
        hits = document_store.embedding_search(target.embedding, top_k=3)
        assert hits[0].id == target.id
