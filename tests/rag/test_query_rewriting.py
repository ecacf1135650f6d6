"""Query rewriting: the synonym map, and the chat rewriter against a real local OpenAI-compatible HTTP server (the
scripted replay server, tests/fixtures/openai_replay.py)."""

from __future__ import annotations

import pytest

from medq.rag import ChatQueryRewriter, SynonymQueryRewriter
from tests.fixtures.openai_replay import OpenAIReplay


def test_synonyms_append_standard_terms_longest_first():
    rewriter = SynonymQueryRewriter({"拉肚子": ["腹泻"], "肚子疼": ["腹痛"], "肚子": ["腹部"]})
    assert rewriter.rewrite("孩子拉肚子还肚子疼") == "孩子拉肚子还肚子疼 腹泻 腹痛 腹部"
    assert rewriter.rewrite("头痛") == "头痛"
    assert SynonymQueryRewriter({"发烧": "发热"}).rewrite("发烧发热") == "发烧发热", "terms already there are not repeated"


@pytest.fixture
def chat_server():
    with OpenAIReplay() as server:
        server.script("draft", default={"content": "发热 腹泻"})
        yield server


def test_chat_rewriter_appends_the_models_terms(chat_server, monkeypatch):
    monkeypatch.setenv("MEDQ_TEST_KEY", "sk-test")
    rewriter = ChatQueryRewriter(chat_server.base_url, model="replay", api_key_env="MEDQ_TEST_KEY")
    assert rewriter.rewrite("发烧拉肚子") == "发烧拉肚子 发热 腹泻"
    request = chat_server.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["headers"]["authorization"] == "Bearer sk-test"
    assert request["body"]["model"] == "replay" and request["body"]["messages"][-1]["content"] == "发烧拉肚子"


def test_chat_rewriter_retries_then_falls_back_to_the_original_query(chat_server):
    chat_server.script("draft", {"status": 500}, {"content": "腹痛"})
    rewriter = ChatQueryRewriter(chat_server.base_url, model="replay", retries=2, api_key_env=None)
    assert rewriter.rewrite("肚子疼") == "肚子疼 腹痛" and len(chat_server.requests) == 2
    chat_server.script("draft", *[{"status": 500}] * 3)
    assert rewriter.rewrite("肚子疼") == "肚子疼"


def test_unreachable_chat_endpoint_does_not_break_retrieval():
    rewriter = ChatQueryRewriter("http://127.0.0.1:9/v1", model="tiny", retries=1, timeout_s=1)
    assert rewriter.rewrite("头痛") == "头痛"
