"""The API over real HTTP: the openai SDK and an SSE client against `python -m medq.api serve` (see conftest)."""

from __future__ import annotations

import json
import uuid

import httpx
import openai
import pytest
from httpx_sse import connect_sse

from tests.api.conftest import SAFE_DRAFT, start_api


def chat(client: httpx.Client, patient: str, text: str, session: str | None = None, model: str = "medq-agent",
         **extra) -> httpx.Response:
    body = {"model": model, "user": patient, "messages": [{"role": "user", "content": text}], **extra}
    if session:
        body["metadata"] = {"session_id": session}
    return client.post("/v1/chat/completions", json=body)


def test_openai_sdk_chat_carries_the_extension_and_remembers_facts(api):
    sdk = openai.OpenAI(base_url=api.base_url + "/v1", api_key=api.keys["tenant-a"], max_retries=0)
    models = [m.id for m in sdk.models.list()]
    assert models[0] == "medq-agent" and "replay" in models
    reply = sdk.chat.completions.create(model="medq-agent", user="sdk-patient", metadata={"session_id": "sdk-s1"},
                                        messages=[{"role": "user", "content": "我对青霉素过敏，嗓子疼怎么办？"}])
    assert reply.choices[0].message.content == SAFE_DRAFT
    ext = reply.model_extra["medq"]
    assert ext["session_id"] == "sdk-s1" and ext["outcome"] == "answered"
    assert [(u["kind"], u["value"]) for u in ext["memory_updates"]] == [("allergy", "青霉素类")]
    assert {"model", "template", "lexicon", "index", "medq"} <= set(ext["versions"])
    assert reply.usage.total_tokens > 0
    with httpx.Client(base_url=api.base_url, headers=api.headers()) as http:
        memory = http.get("/v1/patients/sdk-patient/memory").json()
        sessions = http.get("/v1/patients/sdk-patient/sessions").json()
    assert [(f["kind"], f["value"], f["status"]) for f in memory["facts"]] == [("allergy", "青霉素类", "active")]
    assert sessions == [{"session_id": "sdk-s1", "started_at": sessions[0]["started_at"], "turns": 1}]


def test_stream_shows_progress_then_only_the_audited_answer(api, client):
    events = []
    body = {"model": "medq-agent", "user": "stream-patient", "stream": True,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "嗓子疼怎么办？"}], "metadata": {"session_id": "st-1"}}
    with connect_sse(client, "POST", "/v1/chat/completions", json=body) as source:
        assert source.response.status_code == 200
        assert source.response.headers["content-type"].startswith("text/event-stream")
        events = [e.data for e in source.iter_sse()]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    progress = [i for i, c in enumerate(chunks) if "progress" in c.get("medq", {})]
    text_at = [i for i, c in enumerate(chunks) if c["choices"] and c["choices"][0]["delta"].get("content")]
    stages = [chunks[i]["medq"]["progress"] for i in progress]
    assert "auditing" in stages and "saving" in stages
    assert text_at and min(text_at) > max(progress), "answer text streamed before the audit finished"
    assert "".join(chunks[i]["choices"][0]["delta"]["content"] for i in text_at) == SAFE_DRAFT
    final = next(c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"] == "stop")
    assert final["medq"]["outcome"] == "answered" and final["medq"]["session_id"] == "st-1"


def test_contraindicated_passthrough_answer_is_withheld(api, client, model_server):
    """A served model (pass-through) is still audited: 阿莫西林 for a penicillin-allergic patient never shows."""
    assert chat(client, "allergic", "我对青霉素过敏。", session="pa-1", model="replay").status_code == 200
    model_server.script("draft", {"content": "可以吃阿莫西林胶囊，每次0.5克，每日三次。"})
    reply = chat(client, "allergic", "嗓子发炎了吃什么药？", session="pa-1", model="replay").json()
    answer = reply["choices"][0]["message"]["content"]
    assert "阿莫西林" not in answer.split("：")[0] and reply["medq"]["outcome"] == "fallback"
    assert any(f.get("drug") == "阿莫西林" for f in reply["medq"]["findings"]), reply["medq"]["findings"]
    sent = model_server.requests[-1]["body"]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"], "the stored turn is the context"


def test_auth_missing_wrong_key_and_other_tenant(api, client):
    assert chat(client, "tenant-a-patient", "我有高血压。", session="t-1").status_code == 200
    bare = httpx.get(api.base_url + "/v1/patients/tenant-a-patient/memory")
    assert bare.status_code == 401 and bare.json()["error"]["code"] == "missing_api_key"
    wrong = httpx.get(api.base_url + "/v1/patients/tenant-a-patient/memory",
                      headers={"Authorization": "Bearer mq-not-a-key"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    other = api.headers("tenant-b")
    fact_id = client.get("/v1/patients/tenant-a-patient/memory").json()["facts"][0]["id"]
    for method, path in [("GET", "/memory"), ("GET", "/sessions"), ("DELETE", f"/facts/{fact_id}?changed_by=x"),
                         ("DELETE", "")]:
        response = httpx.request(method, f"{api.base_url}/v1/patients/tenant-a-patient{path}", headers=other)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    # the same patient id in tenant B is B's own, empty patient: nothing of A's leaks into it
    with httpx.Client(base_url=api.base_url, headers=other, timeout=60) as b:
        assert chat(b, "tenant-a-patient", "我最近失眠。", session="t-b").status_code == 200
        assert b.get("/v1/patients/tenant-a-patient/memory").json()["facts"] == []
    assert len(client.get("/v1/patients/tenant-a-patient/memory").json()["facts"]) == 1


def test_fact_correction_and_deletion_record_who(api, client):
    chat(client, "corr", "我对青霉素过敏，有糖尿病。", session="c-1")
    facts = {f["value"]: f for f in client.get("/v1/patients/corr/memory").json()["facts"]}
    allergy = facts["青霉素类"]
    patched = client.patch(f"/v1/patients/corr/facts/{allergy['id']}",
                           json={"changed_by": "dr-wang", "role": "clinician", "status": "denied",
                                 "reason": "皮试阴性"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["status"] == "denied" and patched.json()["extractor"] == "manual"
    deleted = client.delete(f"/v1/patients/corr/facts/{facts['糖尿病']['id']}",
                            params={"changed_by": "patient-self", "role": "patient"})
    assert deleted.status_code == 200 and deleted.json()["value"] == "糖尿病"
    left = client.get("/v1/patients/corr/memory").json()["facts"]
    assert [(f["value"], f["status"]) for f in left] == [("青霉素类", "denied")]
    from medq.agent.memory.store import EntityMemoryStore

    changes = EntityMemoryStore(api.database).fact_changes("tenant-a", "corr")
    assert [(c.action, c.actor, c.actor_role) for c in changes][-2:] == [("update", "dr-wang", "clinician"),
                                                                        ("delete", "patient-self", "patient")]
    from datetime import datetime

    assert all(datetime.fromisoformat(c.changed_at) for c in changes[-2:])      # who, and when
    assert changes[-2].reason == "皮试阴性" and changes[-2].before.status == "active"
    assert client.delete(f"/v1/patients/corr/facts/{facts['糖尿病']['id']}",
                         params={"changed_by": "x"}).status_code == 404


@pytest.mark.parametrize("body, status, field", [
    ({"model": "medq-agent", "messages": [{"role": "user", "content": "头疼"}]}, 422, "user"),
    ({"model": "medq-agent", "user": "p", "messages": [{"role": "robot", "content": "头疼"}]}, 422, "messages"),
    ({"model": "medq-agent", "user": "p", "messages": []}, 422, "messages"),
    ({"model": "medq-agent", "user": "bad id!", "messages": [{"role": "user", "content": "头疼"}]}, 422, "user"),
    ({"model": "no-such-model", "user": "p", "messages": [{"role": "user", "content": "头疼"}]}, 404, "model"),
    ({"model": "medq-agent", "user": "p", "messages": [{"role": "user", "content": "痛" * 1500}]}, 413, "messages"),
])
def test_bad_requests_get_stable_json_errors(client, body, status, field):
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["field"].startswith(field) and error["code"] and error["message"]


def test_oversized_body_is_413(client):
    response = client.post("/v1/chat/completions", content=b'{"x": "' + b"a" * 70_000 + b'"}',
                           headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"


def test_erasure_removes_memory_and_sessions_and_is_safe_to_repeat(api, client):
    """The API's own part (the chat app's threads live in the app's database, erased through `api.erasure_hooks`:
    tests/api/test_erasure_files.py). A repeat finds nothing anywhere: 404, the same as an unknown patient."""
    chat(client, "erase-me", "我对头孢过敏。", session="e-1")
    report = client.delete("/v1/patients/erase-me")
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["erased"]["facts"] == 1 and body["erased"]["chat_sessions"] == 1 and body["erased"]["patients"] == 1
    assert body["subscribers"] == {}   # this API lists no erasure hooks
    assert client.get("/v1/patients/erase-me/memory").status_code == 404
    assert client.get("/v1/patients/erase-me/sessions").status_code == 404
    again = client.delete("/v1/patients/erase-me")
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"
    from sqlalchemy import create_engine, inspect

    engine = create_engine(api.database)
    assert not {"threads", "steps", "users"} & set(inspect(engine).get_table_names())   # no chat-app tables here
    engine.dispose()


def test_health_ready_metrics_and_openapi(api, client):
    assert httpx.get(api.base_url + "/healthz").json()["status"] == "ok"
    ready = httpx.get(api.base_url + "/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"model_server": "ok", "database": "ok"}
    chat(client, "metrics-patient", "嗓子疼怎么办？")
    metrics = httpx.get(api.base_url + "/metrics").text
    assert 'medq_api_turns_total{model="medq-agent",outcome="answered"}' in metrics
    assert "medq_api_requests_total" in metrics and "medq_api_tokens_total" in metrics
    assert "medq_api_audit_outcomes_total" in metrics
    schema = httpx.get(api.base_url + "/schema/openapi.json").json()
    assert {"/v1/chat/completions", "/v1/models", "/v1/patients/{patient_id}/memory", "/readyz"} <= set(schema["paths"])


def test_stopped_model_server_gives_503_and_writes_nothing(tmp_path):
    """A model server that was running and is stopped; rate limit of 3 per minute on the same server."""
    from tests.fixtures.openai_replay import OpenAIReplay

    stopped = OpenAIReplay().start()
    stopped.stop()
    api = start_api(tmp_path / "api", stopped.base_url, "api.rate_limit.requests=3", tenants=("tenant-a",))
    try:
        with httpx.Client(base_url=api.base_url, headers=api.headers(), timeout=60) as client:
            ready = httpx.get(api.base_url + "/readyz")
            assert ready.status_code == 503 and ready.json()["error"]["down"] == ["model_server"]
            assert stopped.base_url in ready.json()["error"]["message"]
            for stream in (False, True):
                response = chat(client, "p-down", "我对青霉素过敏，嗓子疼。", stream=stream)
                assert response.status_code == 503, response.text
                assert response.json()["error"]["code"] == "model_server_unavailable"
                assert stopped.base_url in response.json()["error"]["message"]
            # the failed turns wrote nothing: the patient does not even exist
            assert client.get("/v1/patients/p-down/memory").status_code == 404
            limited = client.get("/v1/patients/p-down/memory")
            assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
            assert int(limited.headers["retry-after"]) > 0
            # another key has its own budget
    finally:
        api.stop()
