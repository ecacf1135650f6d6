"""A real API: `python -m medq.api serve` (uvicorn) in its own process on 127.0.0.1, on a real SQLite database,
talking over HTTP to a real OpenAI-protocol model server.

The model server here is the scripted replay server (tests/fixtures/openai_replay.py, a real local HTTP server): a tiny
random-init model cannot write the cited Chinese answers that the agent's audit lets through, and these tests check
the API's plumbing (auth, tenants, streaming order, memory, errors, erasure), not the model's words. The agent, its
client, Haystack's generator, the auditor and the memory store all run for real.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from medq.serve.launcher import free_port
from tests.fixtures.openai_replay import replay_fixture

REPO = Path(__file__).resolve().parents[2]
# A cited answer for the shared test corpus below would need retrieval; the API tests run the agent without an index,
# so with citations required every agent draft would be withheld. They turn the citation requirement off for the
# agent (the critic and the contraindication audit still run) and check withholding with a contraindicated draft.
SAFE_DRAFT = "嗓子疼可以多喝温水，注意休息，用淡盐水漱口；如果发热或持续加重请及时就医。"
PASS = {"content": '{"verdict": "pass", "problems": []}'}


@dataclass
class ApiProcess:
    base_url: str
    process: subprocess.Popen
    database: str
    log_path: Path
    keys: dict[str, str] = field(default_factory=dict)

    def headers(self, tenant: str = "tenant-a") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[tenant]}"}

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_api(root: Path, model_url: str, *overrides: str, tenants=("tenant-a", "tenant-b")) -> ApiProcess:
    """Keys first (the CLI, as an operator would), then the server; waits for /healthz."""
    root.mkdir(parents=True, exist_ok=True)
    database = f"sqlite:///{root / 'memory.db'}"
    env = {**os.environ, "MEDQ_HOME": str(root), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    keys = {}
    for tenant in tenants:
        out = subprocess.run([sys.executable, "-m", "medq.api", "keys", "create", "--tenant", tenant,
                              "--database", database, "--create-database"], capture_output=True, text=True, env=env,
                             cwd=REPO, timeout=120)
        assert out.returncode == 0, out.stderr
        keys[tenant] = out.stdout.strip()
    port = free_port()
    log_path = root / "api.log"
    args = [sys.executable, "-m", "medq.api", "serve", f"api.port={port}", f"agent.memory.url={database}",
            f"agent.endpoint.base_url={model_url}", "agent.endpoint.model=replay", "agent.endpoint.max_retries=0",
            "agent.tracing.enabled=false", "agent.turn.citations.required=false",
            "agent.privacy.id_salt=tests-only-salt", *overrides]
    with open(log_path, "w") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO,
                                   start_new_session=True)
    api = ApiProcess(f"http://127.0.0.1:{port}", process, database, log_path, keys)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"API exited with {process.returncode}:\n{api.log_tail()}")
        try:
            if httpx.get(api.base_url + "/healthz", timeout=1).status_code == 200:
                return api
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    api.stop()
    raise RuntimeError(f"API did not become healthy in 120 s:\n{api.log_tail()}")


model_server = replay_fixture("session")


@pytest.fixture(scope="session")
def api(model_server, tmp_path_factory):
    model_server.script("draft", default={"content": SAFE_DRAFT})
    model_server.script("critic", default=PASS)
    model_server.script("summary", default={"content": "患者咨询嗓子疼。"})
    server = start_api(tmp_path_factory.mktemp("api"), model_server.base_url, "api.rate_limit.requests=100000")
    yield server
    server.stop()


@pytest.fixture
def client(api):
    with httpx.Client(base_url=api.base_url, headers=api.headers(), timeout=60) as http:
        yield http
