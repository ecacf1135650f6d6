"""The same retrieval behaviour from both stores: BM25, dense, hybrid, filters, evidence ids, sync and async."""

from __future__ import annotations

import asyncio

import pytest

from medq.errors import MedqError
from medq.rag import QueryRules, RetrievePipeline, SynonymQueryRewriter


def ids(docs):
    return [d.id for d in docs]


def test_bm25_finds_chinese_documents(filled_store):
    assert ids(filled_store.bm25_search("我最近胃痛反酸怎么办", top_k=3))[0] == "d-gastritis"
    assert ids(filled_store.bm25_search("血压高要一直吃降压药吗", top_k=3))[0] == "d-bp"
    assert ids(filled_store.bm25_search("被狗咬了", top_k=3))[0] == "d-dog"


def test_bm25_searches_content_not_metadata(filled_store):
    # "急诊科" is only the department (metadata) of d-dog; "急诊" appears in d-asthma's content.
    found = ids(filled_store.bm25_search("急诊科", top_k=5))
    assert found and found[0] == "d-asthma" and "d-dog" not in found


def test_bm25_returns_nothing_for_unknown_terms(filled_store):
    assert filled_store.bm25_search("量子色动力学", top_k=5) == []


def test_dense_search_ranks_the_nearest_vector_first(filled_store, embedder):
    query = embedder.embed_queries(["被狗咬伤后立即用肥皂水冲洗伤口"])[0]
    assert ids(filled_store.embedding_search(query, top_k=3))[0] == "d-dog"


def test_dense_search_refuses_a_vector_of_another_dimension(filled_store):
    with pytest.raises(MedqError, match="dimension 3"):
        filled_store.embedding_search([0.1, 0.2, 0.3], top_k=3)


def test_filters_restrict_both_legs(filled_store, embedder):
    only = {"field": "meta.department", "operator": "==", "value": "消化科"}
    assert set(ids(filled_store.bm25_search("饮食", top_k=10, filters=only))) == {"d-gastritis", "d-diarrhea"}
    query = embedder.embed_queries(["饮食"])[0]
    assert set(ids(filled_store.embedding_search(query, top_k=10, filters=only))) == {"d-gastritis", "d-diarrhea"}


def test_hybrid_pipeline_gives_numbered_evidence_with_metadata(filled_store, embedder):
    pipeline = RetrievePipeline(filled_store, embedder, mode="hybrid", top_k=3, candidates=10)
    result = pipeline.retrieve("孩子拉肚子好几天了，要注意什么")
    assert [e.evidence_id for e in result.evidence] == ["E1", "E2", "E3"]
    assert [e.rank for e in result.evidence] == [1, 2, 3]
    top = result.evidence[0]
    assert top.doc_id == "d-diarrhea" and top.meta["department"] == "消化科" and top.meta["example_id"] == "d-diarrhea"
    assert set(top.meta["ranks"]) == {"bm25", "dense"}, "the top document was found by both legs"
    scores = [e.score for e in result.evidence]
    assert scores == sorted(scores, reverse=True)


def test_async_retrieval_equals_sync(filled_store, embedder):
    pipeline = RetrievePipeline(filled_store, embedder, mode="hybrid", top_k=4, candidates=10)
    sync = pipeline.retrieve("晚上睡不着觉")
    async_ = asyncio.run(pipeline.retrieve_async("晚上睡不着觉"))
    assert [e.doc_id for e in async_.evidence] == [e.doc_id for e in sync.evidence]
    assert sync.evidence[0].doc_id == "d-insomnia"


def test_modes_use_only_their_legs(filled_store, embedder):
    bm25 = RetrievePipeline(filled_store, embedder, mode="bm25", top_k=3, candidates=10).retrieve("胃镜检查")
    dense = RetrievePipeline(filled_store, embedder, mode="dense", top_k=3, candidates=10).retrieve("胃镜检查")
    assert all(set(e.meta["ranks"]) == {"bm25"} for e in bm25.evidence)
    assert all(set(e.meta["ranks"]) == {"dense"} for e in dense.evidence)


def test_synonym_rewriting_reaches_documents_in_standard_terms(filled_store, embedder):
    plain = RetrievePipeline(filled_store, embedder, mode="bm25", top_k=3, candidates=10)
    rewritten = RetrievePipeline(filled_store, embedder, mode="bm25", top_k=3, candidates=10,
                                 rewriters=[SynonymQueryRewriter({"额头冒包": ["痤疮", "痘痘"]})])
    assert "d-acne" not in [e.doc_id for e in plain.retrieve("额头冒包").evidence]
    result = rewritten.retrieve("额头冒包")
    assert result.searched_query == "额头冒包 痤疮 痘痘" and result.evidence[0].doc_id == "d-acne"


def test_empty_store_returns_no_evidence(empty_store, embedder):
    result = RetrievePipeline(empty_store, embedder, mode="hybrid", top_k=3, candidates=10).retrieve("头痛")
    assert result.evidence == []


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_query_is_refused(filled_store, embedder, query):
    with pytest.raises(MedqError, match="query is empty"):
        RetrievePipeline(filled_store, embedder, top_k=3, candidates=10).retrieve(query)


def test_over_long_query_is_truncated_or_refused(filled_store, embedder):
    long_query = "胃痛反酸" + "的" * 600
    truncate = RetrievePipeline(filled_store, embedder, top_k=3, candidates=10, query_rules=QueryRules(max_chars=100))
    result = truncate.retrieve(long_query)
    assert result.truncated and len(result.query) == 100 and result.evidence[0].doc_id == "d-gastritis"
    refuse = RetrievePipeline(filled_store, embedder, top_k=3, candidates=10,
                              query_rules=QueryRules(max_chars=100, on_long="error"))
    with pytest.raises(MedqError, match="604 characters, over retrieve.query_rules.max_chars = 100"):
        refuse.retrieve(long_query)


def test_non_chinese_query_is_searched_or_refused(filled_store, embedder):
    search = RetrievePipeline(filled_store, embedder, mode="bm25", top_k=3, candidates=10)
    assert search.retrieve("HPV").evidence[0].doc_id == "d-hpv"
    refuse = RetrievePipeline(filled_store, embedder, top_k=3, candidates=10,
                              query_rules=QueryRules(on_non_chinese="error"))
    with pytest.raises(MedqError, match="no Chinese characters"):
        refuse.retrieve("HPV")


def test_upsert_overwrites_and_delete_removes(filled_store, embedder):
    from haystack import Document
    from haystack.document_stores.types import DuplicatePolicy

    vector = embedder.embed_documents(["银屑病需要长期规范治疗。"])[0].tolist()
    filled_store.write_documents([Document(id="d-ct", content="银屑病需要长期规范治疗。", meta={"department": "皮肤科"},
                                           embedding=vector)], policy=DuplicatePolicy.OVERWRITE)
    filled_store.delete_documents(["d-dog"])
    filled_store.save()
    assert filled_store.count_documents() == 11
    assert ids(filled_store.bm25_search("银屑病", top_k=3)) == ["d-ct"]
    assert filled_store.bm25_search("辐射", top_k=3) == []
    assert "d-dog" not in ids(filled_store.bm25_search("狂犬病疫苗", top_k=3))


def test_pipeline_round_trips_through_haystack_yaml(filled_store, embedder):
    from medq.rag.pipeline import load_pipeline_yaml

    pipeline = RetrievePipeline(filled_store, embedder, mode="hybrid", top_k=3, candidates=10,
                                rewriters=[SynonymQueryRewriter({"拉肚子": ["腹泻"]})])
    text = pipeline.to_yaml()
    assert "medq.rag.components.BM25Retriever" in text and "document_store" in text
    loaded = load_pipeline_yaml(text)
    outputs = loaded.run({"rewrite": {"query": "拉肚子怎么办"}, "evidence": {"top_k": 3}})
    expected = pipeline.retrieve("拉肚子怎么办").evidence
    assert [e.doc_id for e in outputs["evidence"]["evidence"]] == [e.doc_id for e in expected]
