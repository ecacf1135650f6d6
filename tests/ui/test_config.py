"""`python -m medq.ui run` reads conf/ui/ (composed and checked like the API's conf/api/): a misspelt key and a
missing API key are one-line errors naming the key, before anything starts; relative paths become absolute (the
Chainlit process runs in `ui.home`)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.api.conftest import REPO


def run_ui(*overrides: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MEDQ_API_KEY", None)
    return subprocess.run([sys.executable, "-m", "medq.ui", "run", *overrides], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


def test_run_names_a_misspelt_key_and_a_missing_api_key(tmp_path):
    out = run_ui("ui.databse_url=sqlite:///x.db", cwd=tmp_path)
    assert out.returncode == 1 and "ui.databse_url" in out.stderr and "database_url" in out.stderr, out.stderr
    out = run_ui(f"ui.home={tmp_path / 'home'}", cwd=tmp_path)
    assert out.returncode == 1 and "ui.api_key is not set" in out.stderr, out.stderr
    assert not (tmp_path / "home").exists() and not (tmp_path / "ui").exists()   # nothing was prepared


def test_compose_makes_paths_absolute(tmp_path, monkeypatch):
    from medq.ui.__main__ import compose_ui_config

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MEDQ_HOME", raising=False)
    settings = compose_ui_config(["ui.database_url=sqlite:///rel/chat.db", "ui.users=logins.json", "ui.home=app",
                                  "ui.port=9100"])
    assert settings.database_url == f"sqlite:///{tmp_path / 'rel' / 'chat.db'}"
    assert (settings.users, settings.home, settings.port) == (str(tmp_path / "logins.json"), str(tmp_path / "app"),
                                                              9100)
    default = compose_ui_config([])
    assert default.database_url == f"sqlite:///{tmp_path / 'ui' / 'chat.db'}" and default.tenant == "default"
