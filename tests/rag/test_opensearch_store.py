"""What is particular to OpenSearch: index settings medq owns and refuses to mix, unreachable clusters."""

from __future__ import annotations

import time
import uuid

import pytest

from medq.errors import MedqError
from medq.rag.opensearch import OpenSearchStore


@pytest.fixture
def index_name(opensearch_url):
    name = f"medq-os-{uuid.uuid4().hex[:10]}"
    yield name
    OpenSearchStore(url=opensearch_url, index=name).delete_index()


def test_index_is_created_with_cjk_analyser_and_lucene_knn(opensearch_url, index_name):
    store = OpenSearchStore(url=opensearch_url, index=index_name)
    store.prepare(48, "emb-a")
    mapping = store._client.indices.get_mapping(index=index_name)[index_name]["mappings"]
    assert mapping["properties"]["content"]["analyzer"] == "cjk"
    assert mapping["properties"]["embedding"]["dimension"] == 48
    assert mapping["properties"]["embedding"]["method"]["engine"] == "lucene"
    assert mapping["_meta"]["medq"]["embedder"] == "emb-a"
    tokens = store._client.indices.analyze(index=index_name, body={"field": "content", "text": "头痛发烧"})
    assert [t["token"] for t in tokens["tokens"]] == ["头痛", "痛发", "发烧"]


def test_existing_index_with_other_dimension_or_analyser_is_refused(opensearch_url, index_name):
    OpenSearchStore(url=opensearch_url, index=index_name).prepare(48)
    with pytest.raises(MedqError, match=f"index '{index_name}' at {opensearch_url} holds 48-dimension embeddings"):
        OpenSearchStore(url=opensearch_url, index=index_name).prepare(64)
    with pytest.raises(MedqError, match="analyses content with 'cjk', the config says 'standard'"):
        OpenSearchStore(url=opensearch_url, index=index_name, analyzer="standard").prepare(48)


def test_unreachable_cluster_fails_with_the_url_after_retrying():
    store = OpenSearchStore(url="http://127.0.0.1:9", index="x", connect_retries=2, backoff_s=0.1, timeout_s=2)
    started = time.monotonic()
    expected = r"OpenSearch at http://127.0.0.1:9 is unreachable \(connect failed after 3 attempts"
    with pytest.raises(MedqError, match=expected):
        store.count_documents()
    assert time.monotonic() - started >= 0.3, "two backoff waits (0.1 s, 0.2 s) come before giving up"


def test_same_dimension_other_embedder_asks_for_re_embedding(opensearch_url, index_name):
    first = OpenSearchStore(url=opensearch_url, index=index_name)
    assert first.prepare(48, "emb-a") is False
    first.set_embedder_fingerprint("emb-a")
    assert OpenSearchStore(url=opensearch_url, index=index_name).prepare(48, "emb-a") is False
    assert OpenSearchStore(url=opensearch_url, index=index_name).prepare(48, "emb-b") is True
