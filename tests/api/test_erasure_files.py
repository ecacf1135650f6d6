"""Erasure that erases (issue 16, finding 6): after `DELETE /v1/patients/{id}` no byte of any database file (the
SQLite file, its `-wal` and `-shm`) holds the patient's id or sentences, and the chat app's login and threads are
gone. Before the change the `-wal` held them dozens of times. Real uvicorn, real SQLite, the replay model server.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import PASS, SAFE_DRAFT, start_api

PATIENT = "erase-bytes-7f3a"
SENTENCES = ["我叫艾瑞克森，住在梧桐街十七号，最近头晕得厉害。", "我对磺胺类药物过敏，上周在仁和诊所看过。",
             "我有糖尿病，一直在吃二甲双胍。"]
KEEP = "keep-me-91c2"
KEEP_SENTENCE = "我住在银杏路二十号，对花粉过敏，嗓子疼。"


@pytest.fixture(scope="module")
def erasing_api(model_server, tmp_path_factory):
    model_server.script("draft", default={"content": SAFE_DRAFT})
    model_server.script("critic", default=PASS)
    model_server.script("summary", default={"content": "患者咨询头晕。"})
    server = start_api(tmp_path_factory.mktemp("erase_files"), model_server.base_url,
                       "api.rate_limit.requests=100000", tenants=("tenant-a",))
    yield server
    server.stop()


def database_files(api) -> list[Path]:
    db = Path(api.database.removeprefix("sqlite:///"))
    return sorted(p for p in db.parent.iterdir() if p.name.startswith(db.name))


def found(files: list[Path], needle: str) -> list[str]:
    data = needle.encode("utf-8")
    return [f"{p.name}:{p.read_bytes().count(data)}" for p in files if data in p.read_bytes()]


def test_no_byte_of_the_patient_survives_erasure(erasing_api):
    from sqlalchemy import create_engine, text

    from medq.ui.data_layer import create_chainlit_tables

    api = erasing_api
    with httpx.Client(base_url=api.base_url, headers=api.headers(), timeout=60) as client:
        for i, sentence in enumerate(SENTENCES):
            body = {"model": "medq-agent", "user": PATIENT, "metadata": {"session_id": f"s-{i % 2}"},
                    "messages": [{"role": "user", "content": sentence}]}
            assert client.post("/v1/chat/completions", json=body).status_code == 200
        assert client.post("/v1/chat/completions", json={
            "model": "medq-agent", "user": KEEP,
            "messages": [{"role": "user", "content": KEEP_SENTENCE}]}).status_code == 200
        engine = create_engine(api.database)
        create_chainlit_tables(engine)
        with engine.begin() as conn:   # the chat app's login and thread for this patient, as Chainlit stores them
            conn.execute(text('INSERT INTO users ("id", "identifier", "metadata", "createdAt") VALUES (:i, :p, :m, :c)'),
                         {"i": "u-1", "p": PATIENT, "c": "2026-01-01",
                          "m": json.dumps({"role": "patient", "medq_tenant": "tenant-a"})})
            conn.execute(text('INSERT INTO threads ("id", "createdAt", "name", "userId", "userIdentifier", "metadata") '
                              'VALUES (:i, :c, :n, :u, :p, :m)'),
                         {"i": "th-erase", "c": "2026-01-01", "n": SENTENCES[0][:20], "u": "u-1", "p": PATIENT,
                          "m": json.dumps({"medq_tenant": "tenant-a", "medq_patient_id": PATIENT})})
            conn.execute(text('INSERT INTO steps ("id", "name", "type", "threadId", "output") VALUES (:s, :n, :t, :i, :o)'),
                         {"s": "step-erase", "n": "user", "t": "user_message", "i": "th-erase", "o": SENTENCES[1]})
        engine.dispose()
        files = database_files(api)
        # the scan can see them before (so "not found" after means something)
        assert found(files, PATIENT) and found(files, SENTENCES[1]) and found(files, KEEP_SENTENCE)
        report = client.delete(f"/v1/patients/{PATIENT}")
        assert report.status_code == 200, report.text
        body = report.json()
        assert body["erased"]["chat_threads"] == 1 and body["erased"]["chat_users"] == 1, body
        assert body["storage"].startswith("sqlite: secure_delete"), body
        # the other patient is untouched
        assert client.get(f"/v1/patients/{KEEP}/memory").json()["facts"]
    files = database_files(api)
    assert {p.name.rsplit(".", 1)[-1] for p in files} >= {"db"}
    leftovers = {needle: found(files, needle) for needle in [PATIENT, *SENTENCES, *(s[:8] for s in SENTENCES)]}
    assert all(not where for where in leftovers.values()), leftovers
    assert found(files, KEEP_SENTENCE), "the control patient's words must still be on disk"
    wal = [p for p in files if p.name.endswith("-wal")]
    assert all(p.stat().st_size == 0 for p in wal), [(p.name, p.stat().st_size) for p in wal]
