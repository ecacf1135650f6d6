"""Context budgets that fit the model (issue 16, finding 4): a config whose budgets cannot fit
`serve.max_model_len` is refused before anything runs, naming both keys; a context-length refusal from the model
server is a 400 `context_length_exceeded` turn failure with its cause (it was a 503 "model server unavailable" while
/readyz said ready), and nothing of the turn is saved. The 20-turn session on the real tiny model behind vLLM is
tests/api/test_real_model.py::test_twenty_turns_summarise_before_they_overflow."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from httpx_sse import connect_sse

from tests.api.conftest import PASS, REPO, SAFE_DRAFT, start_api

VLLM_400 = ("This model's maximum context length is 1024 tokens. However, you requested 1187 tokens (1059 in the "
            "messages, 128 in the completion). Please reduce the length of the messages or completion.")


def validate(*overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "medq", "+recipe=assistant_demo", *overrides, "--validate"],
                          capture_output=True, text=True, cwd=REPO, timeout=300)


def test_validation_refuses_budgets_over_max_model_len():
    assert validate().returncode == 0
    out = validate("agent.turn.budgets.summary_tokens=1500")
    assert out.returncode != 0
    assert "agent.turn.budgets.summary_tokens = 1500" in out.stderr and "serve.max_model_len = 1024" in out.stderr
    out = validate("agent.turn.budgets.draft_max_tokens=800")
    assert out.returncode != 0 and "serve.max_model_len = 1024" in out.stderr, out.stderr
    out = validate("agent.turn.refine.max_rounds=1")          # a refine round's quoted problems count too
    assert out.returncode != 0 and "refine prompts" in out.stderr, out.stderr
    assert validate("agent.turn.budgets.summary_tokens=1500", "serve.max_model_len=8192").returncode == 0
    # the evidence and the profile are budgeted too, counted with the served tokenizer's figures
    out = validate("agent.turn.budgets.evidence_tokens=400")
    assert out.returncode != 0 and "agent.turn.budgets.evidence_tokens = 400" in out.stderr, out.stderr
    out = validate("agent.turn.budgets.tokens_per_cjk_char=1.5")   # a dearer tokenizer: the same budgets overflow
    assert out.returncode != 0 and "serve.max_model_len = 1024" in out.stderr, out.stderr
    out = validate("agent.turn.critic.max_tokens=320")              # the critic's request is checked as well
    assert out.returncode != 0 and "agent.turn.critic.max_tokens = 320" in out.stderr, out.stderr


@pytest.fixture(scope="module")
def api(model_server, tmp_path_factory):
    model_server.script("critic", default=PASS)
    model_server.script("summary", default={"content": "患者咨询嗓子疼。"})
    server = start_api(tmp_path_factory.mktemp("context"), model_server.base_url, "api.rate_limit.requests=100000",
                       tenants=("tenant-a",))
    yield server
    server.stop()


def test_a_context_length_refusal_is_a_400_with_its_cause(api, model_server):
    body = {"model": "medq-agent", "user": "ctx-p1", "metadata": {"session_id": "ctx-s1"},
            "messages": [{"role": "user", "content": "我对青霉素过敏，嗓子疼怎么办？"}]}
    with httpx.Client(base_url=api.base_url, headers=api.headers(), timeout=60) as client:
        for passthrough in (False, True):
            model_server.script("draft", {"status": 400, "message": VLLM_400})
            response = client.post("/v1/chat/completions",
                                   json={**body, "model": "replay" if passthrough else "medq-agent"})
            assert response.status_code == 400, response.text
            error = response.json()["error"]
            assert error["code"] == "context_length_exceeded" and "maximum context length is 1024" in error["message"]
            assert "agent.turn.budgets" in error["message"]
        model_server.script("draft", {"status": 400, "message": VLLM_400})
        with connect_sse(client, "POST", "/v1/chat/completions", json={**body, "stream": True}) as source:
            events = [e.data for e in source.iter_sse()]
        assert json.loads(events[-2])["error"]["code"] == "context_length_exceeded" and events[-1] == "[DONE]"
        assert httpx.get(api.base_url + "/readyz").status_code == 200
        # nothing was saved, and the session is not broken: the next turn answers
        assert client.get("/v1/patients/ctx-p1/memory").status_code == 404
        model_server.script("draft", {"content": SAFE_DRAFT})
        reply = client.post("/v1/chat/completions", json=body)
        assert reply.status_code == 200 and reply.json()["medq"]["outcome"] == "answered", reply.text
    # another 400 (not about the context) stays a refusal, not an outage either
    model_server.script("draft", {"status": 400, "message": "bad tool schema"})
    with httpx.Client(base_url=api.base_url, headers=api.headers(), timeout=60) as client:
        response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 422 and "refused the request (HTTP 400)" in response.json()["error"]["message"]
