"""The Chinese BM25 tokenizer and weighted reciprocal-rank fusion."""

from __future__ import annotations

import pytest
from haystack import Document

from medq.rag import ChineseBM25Tokenizer, EmbeddedDocumentStore, weighted_rrf


def test_tokens_are_jieba_words_plus_character_bigrams():
    tokens = ChineseBM25Tokenizer()("头痛发烧")
    assert {"头痛", "发烧"} <= set(tokens)
    assert [t for t in tokens if t.startswith("b:")] == ["b:头痛", "b:痛发", "b:发烧"]


def test_stopwords_punctuation_and_latin():
    tokens = ChineseBM25Tokenizer()("我的HPV检查，是阳性吗？")
    assert "hpv" in tokens and "的" not in tokens and "，" not in tokens and "吗" not in tokens
    assert "检查" in tokens and "阳性" in tokens


def test_repeated_query_terms_are_kept_and_weigh_more():
    tokenizer = ChineseBM25Tokenizer()
    assert tokenizer("咳嗽咳嗽").count("咳嗽") == 2
    store = EmbeddedDocumentStore()
    store.write_documents([Document(id="cough", content="咳嗽两周"), Document(id="fever", content="发热两天")])
    once = {d.id: d.score for d in store.bm25_search("咳嗽 发热", top_k=2)}
    twice = {d.id: d.score for d in store.bm25_search("咳嗽 咳嗽 发热", top_k=2)}
    assert twice["cough"] > once["cough"] and twice["fever"] == pytest.approx(once["fever"])


def test_words_or_bigrams_can_be_turned_off():
    assert all(t.startswith("b:") for t in ChineseBM25Tokenizer(use_words=False)("胃痛反酸"))
    assert not any(t.startswith("b:") for t in ChineseBM25Tokenizer(use_bigrams=False)("胃痛反酸"))
    with pytest.raises(ValueError):
        ChineseBM25Tokenizer(use_words=False, use_bigrams=False)


def docs(*ids):
    return [Document(id=i, content=i) for i in ids]


def test_rrf_sums_weighted_reciprocal_ranks():
    fused = weighted_rrf({"bm25": docs("a", "b", "c"), "dense": docs("b", "d")}, {"bm25": 1.0, "dense": 0.5}, k=10)
    scores = {d.id: d.score for d in fused}
    assert scores["a"] == pytest.approx(1 / 11)
    assert scores["b"] == pytest.approx(1 / 12 + 0.5 / 11)
    assert scores["d"] == pytest.approx(0.5 / 12)
    assert [d.id for d in fused] == ["b", "a", "c", "d"]
    assert fused[0].meta["ranks"] == {"bm25": 2, "dense": 1}


def test_rrf_weight_decides_which_leg_leads():
    legs = {"bm25": docs("a", "b"), "dense": docs("b", "a")}
    assert weighted_rrf(legs, {"bm25": 1.0, "dense": 0.2})[0].id == "a"
    assert weighted_rrf(legs, {"bm25": 0.2, "dense": 1.0})[0].id == "b"
    assert [d.id for d in weighted_rrf(legs, {"bm25": 1.0, "dense": 1.0}, top_k=1)] == ["a"]
