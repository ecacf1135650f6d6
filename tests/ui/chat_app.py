"""The real chat app for tests: `python -m medq.ui run ui.key=value ...` (conf/ui/) in its own process group,
started and stopped through medq's one launcher (ServerProcess), waited on until its page answers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from medq.serve.launcher import ServerProcess, free_port
from tests.api.conftest import REPO


def start_chat_app(root: Path, api_url: str, api_key: str, tenant: str, database_url: str, users: Path,
                   erasure_key: str | None = None, port: int | None = None) -> tuple[ServerProcess, str]:
    port = port or free_port()
    overrides = [f"ui.api_url={api_url}", f"ui.api_key={api_key}", f"ui.tenant={tenant}",
                 f"ui.database_url='{database_url}'", f"ui.users={users}", f"ui.port={port}", f"ui.home={root / 'home'}"]
    if erasure_key:
        overrides.append(f"ui.erasure_key={erasure_key}")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MEDQ_UI_ERASURE_KEY", None)
    url = f"http://127.0.0.1:{port}"
    server = ServerProcess("the chat app", [sys.executable, "-m", "medq.ui", "run", *overrides], env,
                           root / "ui.log", url + "/", 180, cwd=REPO)
    server.start()
    server.wait_healthy()
    return server, url
