"""A real local HTTP server speaking the OpenAI chat-completions protocol that replays scripted replies.

Used where a behaviour needs model replies a tiny random-init model cannot give (a draft that recommends 阿莫西林 to a
patient allergic to 青霉素, a malformed tool call, an empty reply). The agent's real client (`medq.serve.client`),
Haystack's `OpenAIChatGenerator`, their parsing and the tool-call code all run against it over HTTP; only the
model's words are scripted. The HTTP server is Werkzeug's (already in the stack through MLflow).

Replies are queued per kind of request: `critic` (requests with a JSON-schema `response_format`), `summary`
(requests without tools whose system prompt asks for a summary) and `draft` (everything else). A reply is a dict:
    {"content": "..."}                                  an assistant text reply
    {"tool_calls": [{"name": "bmi", "arguments": "{...}"}]}   tool calls (arguments as raw JSON text, may be bad)
    {"status": 503}                                     an HTTP error (optional "message": its error text)
    {"finish_reason": "length", "content": "..."}      a cut-off reply
An exhausted queue answers with its `default` (or HTTP 500, so a test never passes on a missing script).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one INFO line per request otherwise


class ReplayServer:
    def __init__(self) -> None:
        self.queues: dict[str, deque[dict[str, Any]]] = {"draft": deque(), "critic": deque(), "summary": deque()}
        self.defaults: dict[str, dict[str, Any] | None] = {"draft": None, "critic": None, "summary": None}
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "ReplayServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def script(self, kind: str, *replies: dict[str, Any], default: dict[str, Any] | None = None) -> None:
        with self._lock:
            self.queues[kind].extend(replies)
            if default is not None:
                self.defaults[kind] = default

    def reset(self) -> None:
        with self._lock:
            for queue in self.queues.values():
                queue.clear()
            self.defaults = {k: None for k in self.defaults}
            self.requests.clear()

    def kinds(self) -> list[str]:
        return [r["kind"] for r in self.requests]

    @staticmethod
    def classify(body: dict[str, Any]) -> str:
        if body.get("response_format", {}).get("type") == "json_schema":
            return "critic"
        system = next((m.get("content") or "" for m in body.get("messages", []) if m.get("role") == "system"), "")
        if not body.get("tools") and "摘要" in system and "压缩" in system:
            return "summary"
        return "draft"

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path.rstrip("/") == "/v1/models":
            response = Response(json.dumps({"object": "list", "data": [{"id": "replay", "object": "model"}]}),
                                content_type="application/json")
            return response(environ, start_response)
        if request.path.rstrip("/") != "/v1/chat/completions":
            return Response("not found", status=404)(environ, start_response)
        body = json.loads(request.get_data(as_text=True))
        kind = self.classify(body)
        with self._lock:
            self.requests.append({"kind": kind, "body": body})
            queue = self.queues[kind]
            reply = queue.popleft() if queue else self.defaults[kind]
        if reply is None:
            return Response(json.dumps({"error": {"message": f"replay: no scripted {kind} reply left"}}),
                            status=500, content_type="application/json")(environ, start_response)
        if "status" in reply:
            return Response(json.dumps({"error": {"message": reply.get("message", "scripted failure")}}),
                            status=reply["status"],
                            content_type="application/json")(environ, start_response)
        message: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
        finish = reply.get("finish_reason", "stop")
        if reply.get("tool_calls"):
            message["tool_calls"] = [{"id": f"call_{uuid.uuid4().hex[:8]}", "type": "function",
                                      "function": {"name": c["name"], "arguments": c["arguments"]}}
                                     for c in reply["tool_calls"]]
            finish = reply.get("finish_reason", "tool_calls")
        completion = len(reply.get("content") or "") or 1
        payload = {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion", "created": int(time.time()),
                   "model": body.get("model", "replay"),
                   "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                   "usage": {"prompt_tokens": 10, "completion_tokens": completion, "total_tokens": 10 + completion}}
        return Response(json.dumps(payload, ensure_ascii=False), content_type="application/json")(environ,
                                                                                                   start_response)
