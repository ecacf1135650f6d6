"""Smaller API findings of issue 16 (finding 8): one `drafting` and one `auditing` progress event per turn; 422s name
the right field (`metadata.session_id`, not `metasession_id`; a pass-through parameter the model server refuses is
named, not `messages`); no coercion of "0.5" into a temperature; JSON bodies only as application/json."""

from __future__ import annotations

import json

import httpx
import pytest
from httpx_sse import connect_sse

from tests.api.conftest import SAFE_DRAFT

BASE = {"model": "medq-agent", "user": "strict-p1", "messages": [{"role": "user", "content": "嗓子疼怎么办？"}]}


def test_each_progress_stage_is_sent_once_in_order(api, client, model_server):
    model_server.script("draft", {"content": "没有引用的回答。"}, {"content": SAFE_DRAFT})   # a refine round
    model_server.script("critic", {"content": json.dumps({"verdict": "revise", "problems": ["不够具体"]})})
    with connect_sse(client, "POST", "/v1/chat/completions", json={**BASE, "stream": True}) as source:
        events = [json.loads(e.data) for e in source.iter_sse() if e.data != "[DONE]"]
    stages = [e["medq"]["progress"] for e in events if "progress" in e.get("medq", {})]
    final = [e for e in events if e["choices"] and e["choices"][0]["finish_reason"] == "stop"][0]
    assert final["medq"]["refine_rounds"] == 1, final["medq"]
    assert stages.count("drafting") == 1 and stages.count("auditing") == 1, stages
    assert len(stages) == len(set(stages)), stages
    assert stages.index("drafting") < stages.index("auditing") < stages.index("saving"), stages


@pytest.mark.parametrize("extra, field", [
    ({"metadata": {"session_id": "bad id"}}, "metadata.session_id"),
    ({"metadata": {"session_id": 5}}, "metadata.session_id"),
    ({"temperature": "0.5"}, "temperature"),
    ({"temperature": 3}, "temperature"),
    ({"stream": "true"}, "stream"),
    ({"max_tokens": "16"}, "max_tokens"),
    ({"seed": 2**64}, "seed"),
    ({"seed": "1"}, "seed"),
    ({"top_p": "1"}, "top_p"),
    ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
])
def test_wrong_types_are_refused_naming_the_field(client, extra, field):
    response = client.post("/v1/chat/completions", json={**BASE, **extra})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field, response.json()


def test_a_json_body_must_say_so(client):
    for media_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = client.post("/v1/chat/completions", content=json.dumps(BASE).encode(),
                               headers={"Content-Type": media_type})
        assert response.status_code == 415, response.text
        assert response.json()["error"]["code"] == "unsupported_media_type"
    patch = client.patch("/v1/patients/strict-p1/facts/f1", content=b'{"changed_by": "dr", "role": "clinician"}',
                         headers={"Content-Type": "text/plain"})
    assert patch.status_code == 415, patch.text
    fine = client.post("/v1/chat/completions", json={**BASE, "temperature": 0.5})
    assert fine.status_code == 200, fine.text


def test_a_refused_passthrough_parameter_is_named(api, client, model_server):
    model_server.script("draft", {"status": 400, "message": "seed must be within the range of int64"})
    response = client.post("/v1/chat/completions", json={**BASE, "model": "replay", "seed": 7})
    assert response.status_code == 422 and response.json()["error"]["field"] == "seed", response.text
    model_server.script("draft", {"status": 400, "message": "max_tokens must be at most 64"})
    response = client.post("/v1/chat/completions", json={**BASE, "model": "replay", "max_tokens": 100})
    assert response.status_code == 422 and response.json()["error"]["field"] == "max_tokens", response.text
