"""`python -m medq.api` guards (issue 16, finding 8): `keys create` from another folder silently created a new
./agent/memory.db whose key the running API rejected; `serve` ran with the shipped trace salt "medq"."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.api.conftest import REPO


def medq_api(*args: str, cwd, env=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    env.pop("MEDQ_HOME", None)
    return subprocess.run([sys.executable, "-m", "medq.api", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=180)


def test_keys_create_refuses_a_database_that_does_not_exist(tmp_path):
    out = medq_api("keys", "create", "--tenant", "clinic", cwd=tmp_path)
    assert out.returncode == 1 and "agent.memory.url" in out.stderr and "--create-database" in out.stderr, out.stderr
    assert not (tmp_path / "agent").exists(), "nothing may be created"
    database = f"sqlite:///{tmp_path / 'api.db'}"
    out = medq_api("keys", "create", "--tenant", "clinic", "--database", database, cwd=tmp_path)
    assert out.returncode == 1 and "--database" in out.stderr and not (tmp_path / "api.db").exists(), out.stderr
    created = medq_api("keys", "create", "--tenant", "clinic", "--database", database, "--create-database",
                       cwd=tmp_path)
    assert created.returncode == 0 and created.stdout.startswith("mq-"), created.stderr
    again = medq_api("keys", "create", "--tenant", "clinic", "--database", database, cwd=tmp_path)
    assert again.returncode == 0, again.stderr            # an existing database needs no flag
    listed = medq_api("keys", "list", "--database", database, cwd=tmp_path)
    assert listed.stdout.count("clinic") == 2


def test_serve_refuses_the_default_trace_salt(tmp_path):
    out = medq_api("serve", "api.port=1", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert "agent.privacy.id_salt" in out.stderr and "secrets.token_hex" in out.stderr, out.stderr


def test_serve_names_a_misspelt_key_in_one_line(tmp_path):
    out = medq_api("serve", "api.prot=1", cwd=tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.strip().splitlines() == [out.stderr.strip()], out.stderr      # one line
    assert "unknown config key 'api.prot'" in out.stderr and "'api.port'" in out.stderr, out.stderr
    out = medq_api("serve", "agent.turn.budgets.evidnce_tokens=5", cwd=tmp_path)
    assert out.returncode == 1 and "agent.turn.budgets.evidence_tokens" in out.stderr, out.stderr
