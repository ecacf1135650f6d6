"""Nothing withheld leaves the server (issue 16, finding 1).

A property test: scripted drafts (random sentences, some recommending a drug the patient is allergic to) are all
withheld — no retrieval index, so with `agent.turn.citations.required` every sentence is unsupported, and the
critic objects by quoting the draft. For each example, no 6-character piece of any withheld draft may appear in the
JSON response, the SSE stream, or anywhere in the database (the stored turn, its findings, its facts).
Real uvicorn, a real SQLite database, the replay model server over HTTP.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from httpx_sse import connect_sse

import medq

from tests.fixtures.openai_replay import replay_fixture
from tests.api.conftest import start_api

MIN = 6
# medical-sounding sentences a draft could contain (none shares 6 characters with the fallback's own wording)
SENTENCES = ["阿莫西林胶囊每次服用零点五克", "头孢克肟对咽喉细菌感染效果不错", "布洛芬片可以缓解咽喉肿痛",
             "连花清瘟胶囊一日三次连服五天", "晚上用蒲公英煮水代茶饮用", "扁桃体化脓时需要静脉输注抗生素",
             "青霉素皮试阴性就可以放心注射"]
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
SENTENCE = st.one_of(st.sampled_from(SENTENCES), st.text(CJK, min_size=MIN, max_size=24))
DRAFT = st.lists(SENTENCE, min_size=1, max_size=4).map(lambda parts: "。".join(parts) + "。")


def pieces(text: str) -> set[str]:
    return {text[i:i + MIN] for i in range(len(text) - MIN + 1)}


# What the server can say without any draft: its code's and its knowledge's own words (a finding names the drug and
# the rule, "超过每日最大剂量"). Hypothesis also feeds such literals into the random sentences, so a piece found here
# proves nothing; a quoted draft still shows in its other pieces. Case files hold drafts, so they are left out.
OWN_WORDING = "\n".join(path.read_text(encoding="utf-8", errors="ignore")
                        for path in Path(medq.__file__).parent.rglob("*")
                        if path.suffix in {".py", ".csv", ".yaml", ".json"} and "cases" not in path.parts)


def leaked(drafts: list[str], haystack: str) -> list[str]:
    return sorted(p for d in drafts for p in pieces(d) if p in haystack and p not in OWN_WORDING)


# its own replay server: these tests reset its scripts, which the shared one's users rely on
model_server = replay_fixture("module")


@pytest.fixture(scope="module")
def strict_api(model_server, tmp_path_factory):
    """Citations required (the agent's default): without an index every drafted sentence is unsupported."""
    server = start_api(tmp_path_factory.mktemp("withheld"), model_server.base_url, "api.rate_limit.requests=100000",
                       "agent.turn.citations.required=true", tenants=("tenant-a",))
    yield server
    server.stop()


def database_text(url: str) -> str:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return "\n".join(conn.iterdump())


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(drafts=st.lists(DRAFT, min_size=6, max_size=6))
def test_no_piece_of_a_withheld_draft_leaves_the_server(strict_api, model_server, drafts):
    model_server.reset()
    # two turns (JSON, then SSE), each: a first draft and two refinements, all rejected by the critic quoting them
    model_server.script("draft", *[{"content": d} for d in drafts])
    model_server.script("critic", *[{"content": json.dumps({"verdict": "revise", "problems": [d[:50]]},
                                                           ensure_ascii=False)} for d in drafts])
    model_server.script("summary", default={"content": "患者咨询咽痛。"})
    patient, session = "p-" + uuid.uuid4().hex[:8], "s-" + uuid.uuid4().hex[:8]
    body = {"model": "medq-agent", "user": patient, "metadata": {"session_id": session},
            "messages": [{"role": "user", "content": "我对青霉素过敏，嗓子疼吃什么药？"}]}
    with httpx.Client(base_url=strict_api.base_url, headers=strict_api.headers(), timeout=120) as client:
        reply = client.post("/v1/chat/completions", json=body)
        assert reply.status_code == 200, reply.text
        ext = reply.json()["medq"]
        assert ext["outcome"] == "fallback" and ext["findings"], ext
        assert {f["layer"] for f in ext["findings"]} >= {"citations", "critic"}
        sent_json = json.dumps(reply.json(), ensure_ascii=False)
        with connect_sse(client, "POST", "/v1/chat/completions", json={**body, "stream": True}) as source:
            assert source.response.status_code == 200
            events = [e.data for e in source.iter_sse()]
        stream = "\n".join(json.dumps(json.loads(e), ensure_ascii=False) for e in events if e != "[DONE]")
        assert '"outcome": "fallback"' in stream
        memory = client.get(f"/v1/patients/{patient}/memory").json()
    assert leaked(drafts, sent_json) == []
    assert leaked(drafts, stream) == []
    stored = database_text(strict_api.database)
    assert patient in stored and "我对青霉素过敏" in stored      # the turn is there, the drafts are not
    assert leaked(drafts, stored) == []
    assert leaked(drafts, json.dumps(memory, ensure_ascii=False)) == []


def test_the_model_still_hears_which_sentence_failed(strict_api, model_server):
    """The detail the client no longer sees still reaches the refine prompt: the model can fix the sentence."""
    model_server.reset()
    draft = "扁桃体化脓时需要静脉输注抗生素。"
    model_server.script("draft", {"content": draft}, default={"content": "请到医院就诊。"})
    model_server.script("critic", default={"content": json.dumps({"verdict": "pass", "problems": []})})
    model_server.script("summary", default={"content": "摘要"})
    with httpx.Client(base_url=strict_api.base_url, headers=strict_api.headers(), timeout=120) as client:
        reply = client.post("/v1/chat/completions", json={
            "model": "medq-agent", "user": "p-refine", "messages": [{"role": "user", "content": "扁桃体化脓怎么办？"}]})
    assert reply.status_code == 200, reply.text
    findings = reply.json()["medq"]["findings"]
    assert findings[0]["message"] == "第1句没有证据支持" and draft[:MIN] not in json.dumps(findings, ensure_ascii=False)
    refine = [r["body"]["messages"][-1]["content"] for r in model_server.requests if r["kind"] == "draft"][1]
    assert "第1句没有证据支持：扁桃体化脓时需要静脉输注抗生素" in refine


def test_the_leak_check_still_sees_every_quoted_sentence():
    """Leaving the server's own wording out must not blind the check: each sentence quoted whole is found."""
    for sentence in SENTENCES:
        assert leaked([sentence], f"回复：{sentence}"), sentence
