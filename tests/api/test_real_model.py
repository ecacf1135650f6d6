"""The API in front of the REAL tiny model behind vLLM (the shared session fixture from tests/fixtures/servers.py):
the openai SDK through the API to a served model (pass-through, audited) and to the full agent, streaming included.
The tiny random-init model writes no sensible Chinese, so this checks plumbing and the fail-closed path, not answers:
whatever it writes, the reply is either an audited pass or the withheld-draft fallback, and memory is kept."""

from __future__ import annotations

import json
import os

import httpx
import openai
import pytest
from httpx_sse import connect_sse

from tests.api.conftest import start_api

# the model server is vLLM, or `transformers serve` where .venv-vllm is missing (picked at run time)
pytestmark = pytest.mark.vllm


@pytest.fixture(scope="module")
def model_server_process(request):
    """vLLM (the shared fixture: one start per run) where .venv-vllm exists or under CI; else `transformers serve`
    on the same tiny model, so the test still runs against a real model server on a machine without vLLM."""
    from tests.fixtures.servers import VLLM_PYTHON

    if VLLM_PYTHON.exists() or os.environ.get("CI") == "true":
        return request.getfixturevalue("vllm_server")
    return request.getfixturevalue("transformers_server")


@pytest.fixture(scope="module")
def real_api(model_server_process, tmp_path_factory):
    server = model_server_process
    model = server.models[0]
    api = start_api(tmp_path_factory.mktemp("real-api"), server.base_url, f"agent.endpoint.model={model}",
                    "agent.endpoint.max_tokens=16", "agent.turn.budgets.draft_max_tokens=16",
                    "agent.turn.critic.max_tokens=32", "agent.turn.refine.max_rounds=0", tenants=("tenant-a",))
    yield api, model
    api.stop()


@pytest.mark.slow
def test_openai_sdk_through_the_api_to_vllm(real_api):
    api, model = real_api
    sdk = openai.OpenAI(base_url=api.base_url + "/v1", api_key=api.keys["tenant-a"], max_retries=0)
    assert model in [m.id for m in sdk.models.list()]
    for session, name in (("real-passthrough", model), ("real-agent", "medq-agent")):
        reply = sdk.chat.completions.create(model=name, user="real-p1", max_tokens=16,
                                            metadata={"session_id": session},
                                            messages=[{"role": "user", "content": "我对青霉素过敏，嗓子疼怎么办？"}])
        ext = reply.model_extra["medq"]
        assert ext["outcome"] in ("answered", "refined", "fallback"), ext
        assert reply.choices[0].message.content.strip()
        assert ext["versions"]["model"] in (model, name)
    memory = httpx.get(f"{api.base_url}/v1/patients/real-p1/memory", headers=api.headers()).json()
    assert [f["value"] for f in memory["facts"]] == ["青霉素类"]
    body = {"model": model, "user": "real-p1", "stream": True, "max_tokens": 16,
            "messages": [{"role": "user", "content": "头疼怎么办？"}]}
    with httpx.Client(base_url=api.base_url, headers=api.headers(), timeout=120) as client:
        with connect_sse(client, "POST", "/v1/chat/completions", json=body) as source:
            data = [e.data for e in source.iter_sse()]
    assert data[-1] == "[DONE]"
    final = [json.loads(d) for d in data[:-1]][-1]
    assert final["choices"][0]["finish_reason"] == "stop" and "outcome" in final["medq"]


def _demo_agent_overrides() -> list[str]:
    """The assistant_demo recipe's own agent budgets, as command-line overrides (the test follows the recipe)."""
    from omegaconf import OmegaConf

    from tests.api.conftest import REPO

    agent = OmegaConf.to_container(OmegaConf.load(REPO / "recipes" / "assistant_demo.yaml"))["agent"]
    flat = []
    for group, values in agent["turn"].items():
        flat += [f"agent.turn.{group}.{k}={v}" for k, v in values.items()]
    return flat + [f"agent.endpoint.{k}={v}" for k, v in agent["endpoint"].items()]


@pytest.mark.slow
def test_twenty_turns_summarise_before_they_overflow(vllm_server, tmp_path):
    """20 turns in one session on the demo model (the tiny model behind vLLM, max_model_len 1024, as in
    +recipe=assistant_demo) with the recipe's budgets: every turn is served (no 400 or 503), and the older turns
    were folded into the session summary instead of overflowing the context."""
    import sqlite3

    api = start_api(tmp_path / "api", vllm_server.base_url, f"agent.endpoint.model={vllm_server.models[0]}",
                    "api.rate_limit.requests=100000", *_demo_agent_overrides(), tenants=("tenant-a",))
    questions = ["我最近总是头疼，尤其是下午，吃了布洛芬也不太管用，该怎么办？", "嗓子疼了三天，有点发热，需要吃抗生素吗？",
                 "我有高血压，在吃硝苯地平，最近血压还是偏高，怎么办？", "晚上睡不着，白天没精神，有什么办法改善睡眠？"]
    try:
        with httpx.Client(base_url=api.base_url, headers=api.headers(), timeout=300) as client:
            for n in range(20):
                body = {"model": "medq-agent", "user": "long-p1", "metadata": {"session_id": "long-s1"},
                        "messages": [{"role": "user", "content": f"第{n + 1}次提问：{questions[n % 4]}"}]}
                response = client.post("/v1/chat/completions", json=body)
                assert response.status_code == 200, (n, response.text, api.log_tail())
                assert response.json()["medq"]["outcome"] in ("answered", "refined", "fallback")
            sessions = client.get("/v1/patients/long-p1/sessions").json()
        assert sessions[0]["turns"] == 20
        with sqlite3.connect(api.database.removeprefix("sqlite:///")) as conn:
            summaries = conn.execute("SELECT covers_through FROM session_summaries").fetchall()
        assert summaries and summaries[0][0] >= 10, summaries
    finally:
        api.stop()
