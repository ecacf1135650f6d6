"""`+recipe=serve_demo` end to end in a subprocess, the way users run it: train the tiny model, serve the merged
model with vLLM, pass parity, stop the server (no process left); then the same pipeline again with
`serve=transformers serve.block=true`: trained stages come from the cache, parity runs against `transformers
serve`, the server keeps serving until Ctrl-C, and Ctrl-C stops its whole process group."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medq.serve.launcher import process_group_alive
from tests.conftest import mlflow_runs, run_medq
from tests.fixtures.servers import require_vllm

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3000)]
STAGES = "stages=[prepare,base_model,sft,dpo,merge,serve_parity]"
# the recipe tunes vLLM for the tiny model; transformers serve has none of those keys
TRANSFORMERS = ["serve=transformers", "~serve.max_model_len", "~serve.enforce_eager", "~serve.cpu_kvcache_space_gb"]


def endpoint_record(root: Path) -> dict:
    [path] = sorted(root.glob("outputs/runs/serve_demo/*/services/serve/endpoint.json"), key=os.path.getmtime)[-1:]
    return json.loads(path.read_text())


@pytest.mark.vllm
@pytest.mark.transformers_serve
def test_serve_demo_vllm_then_transformers_blocking(workdir):
    require_vllm()
    done = run_medq(["+recipe=serve_demo", "serve.block=false", STAGES], workdir,
                    env={"HF_HUB_OFFLINE": "1"}, timeout=2400)
    assert done.returncode == 0, done.stderr[-3000:]
    record = endpoint_record(workdir)
    assert record["backend"] == "vllm" and record["models"] == ["medq"] and record["chat_template_sha256"]
    assert not process_group_alive(record["pid"]), "the vLLM process group is gone after the pipeline"
    [parity] = list(workdir.glob("artifacts/serve_parity/*/parity.json"))
    report = json.loads(parity.read_text(encoding="utf-8"))["checks"]["merged"]
    assert report["mismatches"] == [] and report["tokens_compared"] >= 1
    client, runs = mlflow_runs(workdir, "serve_demo")
    parity_runs = [r for r in runs if r.data.tags.get("stage") == "serve_parity"]
    assert parity_runs and parity_runs[0].data.metrics["merged.mismatches"] == 0

    # again with transformers serve, blocking: cached training, parity against the other backend, Ctrl-C
    process = subprocess.Popen([sys.executable, "-m", "medq", "+recipe=serve_demo", *TRANSFORMERS, STAGES],
                               cwd=workdir, env={**os.environ, "HF_HUB_OFFLINE": "1"}, stderr=subprocess.PIPE,
                               stdout=open(workdir / "second.out", "w"), text=True)
    lines = []
    deadline = time.monotonic() + 1200
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        if "Ctrl-C stops it" in line or process.poll() is not None:
            break
    assert any("is serving" in line for line in lines), "".join(lines[-30:])
    record = endpoint_record(workdir)
    assert record["backend"] == "transformers" and process_group_alive(record["pid"]), "still serving"
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=120) == 0
    summary = (workdir / "second.out").read_text()
    assert sum(f" {stage} " in summary and "cached" in summary.split(f" {stage} ")[1].split("\n")[0]
               for stage in ("prepare", "base_model", "sft", "dpo", "merge")) == 5, "trained stages come from the cache"
    assert not process_group_alive(record["pid"]), "Ctrl-C stops the server's whole process group"
