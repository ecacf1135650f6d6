"""Query rewriting: the synonym map, and the chat rewriter against a real local OpenAI-compatible HTTP server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from medq.rag import ChatQueryRewriter, SynonymQueryRewriter


def test_synonyms_append_standard_terms_longest_first():
    rewriter = SynonymQueryRewriter({"拉肚子": ["腹泻"], "肚子疼": ["腹痛"], "肚子": ["腹部"]})
    assert rewriter.rewrite("孩子拉肚子还肚子疼") == "孩子拉肚子还肚子疼 腹泻 腹痛 腹部"
    assert rewriter.rewrite("头痛") == "头痛"
    assert SynonymQueryRewriter({"发烧": "发热"}).rewrite("发烧发热") == "发烧发热", "terms already there are not repeated"


class ChatServer(BaseHTTPRequestHandler):
    replies: ClassVar[list] = []
    requests: ClassVar[list] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ChatServer.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        status, payload = ChatServer.replies.pop(0) if ChatServer.replies else (200, "发热 腹泻")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        if status == 200:
            self.wfile.write(json.dumps({"choices": [{"message": {"role": "assistant", "content": payload}}]}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def chat_server():
    ChatServer.replies, ChatServer.requests = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), ChatServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_chat_rewriter_appends_the_models_terms(chat_server, monkeypatch):
    monkeypatch.setenv("MEDQ_TEST_KEY", "sk-test")
    rewriter = ChatQueryRewriter(chat_server, model="tiny", api_key_env="MEDQ_TEST_KEY")
    assert rewriter.rewrite("发烧拉肚子") == "发烧拉肚子 发热 腹泻"
    request = ChatServer.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    assert request["body"]["model"] == "tiny" and request["body"]["messages"][-1]["content"] == "发烧拉肚子"


def test_chat_rewriter_retries_then_falls_back_to_the_original_query(chat_server):
    ChatServer.replies = [(500, ""), (200, "腹痛")]
    rewriter = ChatQueryRewriter(chat_server, model="tiny", retries=2, api_key_env=None)
    assert rewriter.rewrite("肚子疼") == "肚子疼 腹痛" and len(ChatServer.requests) == 2
    ChatServer.replies = [(500, "")] * 3
    assert rewriter.rewrite("肚子疼") == "肚子疼"


def test_unreachable_chat_endpoint_does_not_break_retrieval():
    rewriter = ChatQueryRewriter("http://127.0.0.1:9/v1", model="tiny", retries=1, timeout_s=1)
    assert rewriter.rewrite("头痛") == "头痛"
