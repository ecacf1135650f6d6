"""One id rule for patients, sessions and tenants (issue 16, finding 7): `user: "p1\\n"` was accepted (the schema's
`$` matched before the final newline) and became a second patient whose allergy nobody had recorded."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import quote

import pytest

from medq.ids import InvalidId, check_id
from tests.api.conftest import REPO

BAD_IDS = ["p1\n", "p1\r", "p1\t", "p1 ", " p1", "p1\x00", "p1\x7f", "p\u00e91", "患者1", "-p1", "", "p" * 129,
           "p1\u2028"]


@pytest.mark.parametrize("value", BAD_IDS)
def test_the_rule_refuses_whitespace_control_characters_and_overlong_ids(value):
    with pytest.raises(InvalidId, match="patient id"):
        check_id("patient id", value)


@pytest.mark.parametrize("value", ["p1", "patient-li", "a.b@c:d_e-f", "P" * 128, "0"])
def test_the_rule_accepts_ordinary_ids(value):
    assert check_id("patient id", value) == value


def test_the_store_uses_the_rule(tmp_path):
    from medq.agent.memory.records import InvalidMemoryInput
    from medq.agent.memory.store import EntityMemoryStore

    store = EntityMemoryStore(f"sqlite:///{tmp_path / 'm.db'}")
    with pytest.raises(InvalidMemoryInput, match="control character"):
        with store.turn(store.default_tenant, "p1\n", "s1", create_patient=True):
            pass
    with pytest.raises(InvalidMemoryInput, match="session id"):
        with store.turn(store.default_tenant, "p1", "s1\n", create_patient=True):
            pass


def test_chat_route_refuses_a_patient_id_with_a_trailing_newline(api, client):
    body = {"model": "medq-agent", "messages": [{"role": "user", "content": "我对青霉素过敏。"}]}
    assert client.post("/v1/chat/completions", json={**body, "user": "nl-p1"}).status_code == 200
    for user in ("nl-p1\n", "nl-p1\r\n", "nl-p1\t", "nl-p1 "):
        for stream in (False, True):
            response = client.post("/v1/chat/completions", json={**body, "user": user, "stream": stream})
            assert response.status_code == 422, (user, response.text)
            assert response.json()["error"]["field"] == "user"
    response = client.post("/v1/chat/completions", json={**body, "user": "nl-p1", "metadata": {"session_id": "s\n"}})
    assert response.status_code == 422 and response.json()["error"]["field"] == "metadata.session_id", response.text
    # still one patient, with the allergy
    facts = client.get("/v1/patients/nl-p1/memory").json()["facts"]
    assert [(f["kind"], f["value"]) for f in facts] == [("allergy", "青霉素类")]


@pytest.mark.parametrize("path", ["/memory", "/sessions", "/facts/f1?changed_by=x", ""])
def test_patient_routes_refuse_the_same_ids(api, client, path):
    method = "DELETE" if path in ("", "/facts/f1?changed_by=x") else "GET"
    for bad in ("nl-p1\n", "nl-p1\x00", "nl p1"):
        response = client.request(method, f"/v1/patients/{quote(bad, safe='')}{path}")
        assert response.status_code == 422, (bad, path, response.text)
        assert response.json()["error"]["field"] == "patient_id"
    newline = quote("nl-p1\n", safe="")
    patch = client.patch(f"/v1/patients/{newline}/facts/f1",
                         json={"changed_by": "dr", "role": "clinician", "status": "denied"})
    assert patch.status_code == 422 and patch.json()["error"]["field"] == "patient_id"


def test_keys_create_and_add_user_refuse_bad_names(tmp_path):
    database = f"sqlite:///{tmp_path / 'k.db'}"
    out = subprocess.run([sys.executable, "-m", "medq.api", "keys", "create", "--tenant", "clinic a",
                          "--database", database, "--create-database"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 1 and "--tenant 'clinic a'" in out.stderr, out.stderr
    out = subprocess.run([sys.executable, "-m", "medq.ui", "add-user", str(tmp_path / "u.json"), "li\n",
                          "--password", "x"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 1 and "username" in out.stderr and not (tmp_path / "u.json").exists(), out.stderr
