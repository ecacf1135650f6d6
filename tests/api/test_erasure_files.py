"""Erasure that erases (issue 16, finding 6), across both databases: after `DELETE /v1/patients/{id}` no byte of
any database file (the API's SQLite file, its `-wal` and `-shm`, and the chat app's own database) holds the
patient's id or sentences, and the chat app's login and threads are gone. The API holds no chat-app SQL: it calls
the real chat app's erasure endpoint (`api.erasure_hooks`). A subscriber that is down makes the erasure a 502 that
names it; repeating the DELETE once it is up finishes the job. Real uvicorn, real Chainlit, real SQLite, the replay
model server.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from medq.serve.launcher import free_port
from tests.api.conftest import PASS, SAFE_DRAFT, start_api
from tests.ui.chat_app import start_chat_app

PATIENT = "erase-bytes-7f3a"
SENTENCES = ["我叫艾瑞克森，住在梧桐街十七号，最近头晕得厉害。", "我对磺胺类药物过敏，上周在仁和诊所看过。",
             "我有糖尿病，一直在吃二甲双胍。"]
KEEP = "keep-me-91c2"
KEEP_SENTENCE = "我住在银杏路二十号，对花粉过敏，嗓子疼。"


def hook(port: int, key: str) -> str:
    return f"api.erasure_hooks=[{{name:chat_app,url:'http://127.0.0.1:{port}/medq/erasure',key:'{key}'}}]"


@pytest.fixture(scope="module")
def erasing(model_server, tmp_path_factory):
    """The API, and the chat app it calls on erasure (its own SQLite database and login file)."""
    model_server.script("draft", default={"content": SAFE_DRAFT})
    model_server.script("critic", default=PASS)
    model_server.script("summary", default={"content": "患者咨询头晕。"})
    from medq.ui.users import add_user

    root = tmp_path_factory.mktemp("erase_files")
    port, key = free_port(), secrets.token_urlsafe(24)
    api = start_api(root / "api", model_server.base_url, "api.rate_limit.requests=100000", hook(port, key),
                    tenants=("tenant-a",))
    add_user(root / "users.json", PATIENT, "pw-erase-1")
    add_user(root / "users.json", KEEP, "pw-keep-1")
    ui_db = root / "ui" / "chat.db"
    try:
        app, url = start_chat_app(root, api.base_url, api.keys["tenant-a"], "tenant-a", f"sqlite:///{ui_db}",
                                  root / "users.json", erasure_key=key, port=port)
    except Exception:
        api.stop()
        raise
    yield api, url, key, ui_db, root / "users.json"
    app.stop()
    api.stop()


def database_files(db: Path) -> list[Path]:
    return sorted(p for p in db.parent.iterdir() if p.name.startswith(db.name))


def found(files: list[Path], needle: str) -> list[str]:
    data = needle.encode("utf-8")
    return [f"{p.name}:{p.read_bytes().count(data)}" for p in files if data in p.read_bytes()]


def add_chat_rows(database: Path, tenant: str, patient: str, thread_id: str, words: str) -> None:
    """The chat app's login and thread for this patient, as Chainlit's data layer and medq.ui store them."""
    from medq.ui.data_layer import open_engine

    engine = open_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        conn.execute(text('INSERT INTO users ("id", "identifier", "metadata", "createdAt") VALUES (:i, :p, :m, :c)'),
                     {"i": f"u-{thread_id}", "p": patient, "c": "2026-01-01",
                      "m": json.dumps({"role": "patient", "medq_tenant": tenant})})
        conn.execute(text('INSERT INTO threads ("id", "createdAt", "name", "userId", "userIdentifier", "metadata") '
                          'VALUES (:i, :c, :n, :u, :p, :m)'),
                     {"i": thread_id, "c": "2026-01-01", "n": words[:20], "u": f"u-{thread_id}", "p": patient,
                      "m": json.dumps({"medq_tenant": tenant, "medq_patient_id": patient})})
        conn.execute(text('INSERT INTO steps ("id", "name", "type", "threadId", "output") VALUES (:s, :n, :t, :i, :o)'),
                     {"s": f"step-{thread_id}", "n": "user", "t": "user_message", "i": thread_id, "o": words})
    engine.dispose()


def test_no_byte_of_the_patient_survives_erasure(erasing):
    api, ui_url, key, ui_db, users = erasing
    api_db = Path(api.database.removeprefix("sqlite:///"))
    with httpx.Client(base_url=api.base_url, headers=api.headers(), timeout=60) as client:
        for i, sentence in enumerate(SENTENCES):
            body = {"model": "medq-agent", "user": PATIENT, "metadata": {"session_id": f"s-{i % 2}"},
                    "messages": [{"role": "user", "content": sentence}]}
            assert client.post("/v1/chat/completions", json=body).status_code == 200
        assert client.post("/v1/chat/completions", json={
            "model": "medq-agent", "user": KEEP,
            "messages": [{"role": "user", "content": KEEP_SENTENCE}]}).status_code == 200
        add_chat_rows(ui_db, "tenant-a", PATIENT, "th-erase", SENTENCES[1])
        add_chat_rows(ui_db, "tenant-a", KEEP, "th-keep", KEEP_SENTENCE)
        files = database_files(api_db) + database_files(ui_db)
        # the scan can see them before (so "not found" after means something), in both databases
        assert found(database_files(ui_db), PATIENT) and found(database_files(ui_db), SENTENCES[1])
        assert found(database_files(api_db), SENTENCES[1]) and found(files, KEEP_SENTENCE)
        assert PATIENT in json.loads(users.read_text())
        report = client.delete(f"/v1/patients/{PATIENT}")
        assert report.status_code == 200, report.text
        body = report.json()
        assert body["erased"]["patients"] == 1 and body["storage"].startswith("sqlite: secure_delete"), body
        chat_app = body["subscribers"]["chat_app"]
        assert chat_app["erased"] == {"feedbacks": 0, "elements": 0, "steps": 1, "threads": 1, "users": 1,
                                      "logins": 1}, body
        assert chat_app["storage"] == "sqlite: secure_delete, VACUUM, wal_checkpoint(TRUNCATE)", body
        # the other patient is untouched
        assert client.get(f"/v1/patients/{KEEP}/memory").json()["facts"]
    files = database_files(api_db) + database_files(ui_db)
    assert {p.name.rsplit(".", 1)[-1] for p in files} >= {"db"}
    leftovers = {needle: found(files, needle) for needle in [PATIENT, *SENTENCES, *(s[:8] for s in SENTENCES)]}
    assert all(not where for where in leftovers.values()), leftovers
    assert found(database_files(api_db), KEEP_SENTENCE) and found(database_files(ui_db), KEEP_SENTENCE), \
        "the control patient's words must still be on disk, in both databases"
    wal = [p for p in files if p.name.endswith("-wal")]
    assert all(p.stat().st_size == 0 for p in wal), [(p.name, p.stat().st_size) for p in wal]
    logins = json.loads(users.read_text())
    assert PATIENT not in logins and KEEP in logins


def test_the_chat_apps_erasure_endpoint_refuses_strangers_and_bad_bodies(erasing):
    _api, ui_url, key, _db, _users = erasing
    body = {"tenant": "tenant-a", "patient_id": KEEP}
    assert httpx.post(ui_url + "/medq/erasure", json=body).status_code == 401
    wrong = httpx.post(ui_url + "/medq/erasure", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
    bad = httpx.post(ui_url + "/medq/erasure", json={"tenant": "tenant-a", "patient_id": "p 1\n"},
                     headers={"Authorization": f"Bearer {key}"})
    assert bad.status_code == 422 and "patient_id" in bad.json()["error"]["message"], bad.text


def test_a_subscriber_that_is_down_fails_the_erasure_by_name_and_a_retry_finishes_it(model_server, tmp_path):
    from medq.ui.users import add_user

    model_server.script("draft", default={"content": SAFE_DRAFT})
    model_server.script("critic", default=PASS)
    port, key = free_port(), secrets.token_urlsafe(24)
    api = start_api(tmp_path / "api", model_server.base_url, hook(port, key), tenants=("tenant-a",))
    app = None
    try:
        with httpx.Client(base_url=api.base_url, headers=api.headers(), timeout=60) as client:
            assert client.post("/v1/chat/completions", json={
                "model": "medq-agent", "user": "p-retry",
                "messages": [{"role": "user", "content": SENTENCES[2]}]}).status_code == 200
            failed = client.delete("/v1/patients/p-retry")   # nothing listens on the chat app's port yet
            assert failed.status_code == 502, failed.text
            error = failed.json()["error"]
            assert error["code"] == "erasure_incomplete", error
            assert f"chat_app (http://127.0.0.1:{port}/medq/erasure): ConnectError" in error["message"], error
            assert "safe to repeat" in error["message"]
            assert client.get("/v1/patients/p-retry/memory").status_code == 404   # the API's own part is done
            add_user(tmp_path / "users.json", "p-retry", "pw-retry-1")
            app, _url = start_chat_app(tmp_path, api.base_url, api.keys["tenant-a"], "tenant-a",
                                       f"sqlite:///{tmp_path / 'chat.db'}", tmp_path / "users.json",
                                       erasure_key=key, port=port)
            add_chat_rows(tmp_path / "chat.db", "tenant-a", "p-retry", "th-retry", SENTENCES[2])
            retried = client.delete("/v1/patients/p-retry")
            assert retried.status_code == 200, retried.text
            assert retried.json()["subscribers"]["chat_app"]["erased"]["threads"] == 1
            assert retried.json()["subscribers"]["chat_app"]["erased"]["logins"] == 1
            assert client.delete("/v1/patients/p-retry").status_code == 404   # nothing of it is left anywhere
    finally:
        if app is not None:
            app.stop()
        api.stop()
