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
