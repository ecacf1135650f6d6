"""Two "nodes" on one machine: two medq commands (as `srun` would start on two hosts), torchrun's rendezvous on
127.0.0.1 (static, and elastic c10d), gloo, one rank each, a shared folder. Node 0 runs the pipeline and logs;
node 1 lends its rank. Under c10d torch orders the two launchers by (host, pid), so global rank 0 may be node 1's:
the run still has one MLflow run with the step losses, logged from node 0."""

import json
import os
import re
import subprocess
import sys

import pytest

from medq.runner import default_rdzv_endpoint

from ..conftest import mlflow_runs
from .test_distributed import free_port

ARGS = ["+recipe=demo_train", "stages=[prepare,base_model,sft]", "prepare.source.n_questions=60",
        "sft.launcher=subprocess", "sft.device=cpu", "distributed.nnodes=2", "sft.training.max_steps=2",
        "sft.training.save_steps=2", "sft.training.batch_size=2", "sft.training.logging_steps=1"]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["static", "c10d"])
def test_two_nodes_train_once_with_one_mlflow_run_and_one_adapter(workdir, backend):
    args = [*ARGS, f"distributed.rdzv_endpoint=127.0.0.1:{free_port()}", f"distributed.rdzv_backend={backend}"]
    nodes = []
    for rank in (1, 0):  # the second node may well start first
        env = {**os.environ, "MEDQ_NODE_RANK": str(rank), "HF_HUB_OFFLINE": "1"}
        env.pop("MEDQ_HOME", None)
        nodes.append(subprocess.Popen([sys.executable, "-m", "medq", *args], cwd=workdir, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [node.communicate(timeout=900) for node in nodes]
    follower, leader = outputs
    assert nodes[1].returncode == 0, leader[1][-3000:]
    assert nodes[0].returncode == 0, follower[1][-3000:]
    ranks = sorted(re.findall(r"sft rank (\d)/2 finished", leader[1]) + re.findall(r"sft rank (\d)/2 finished",
                                                                                     follower[1]))
    assert ranks == ["0", "1"] and "finished" in leader[1] and "finished" in follower[1], "one rank on each node"
    if backend == "static":
        assert "sft rank 0/2 finished" in leader[1], "static rendezvous: global rank 0 is node 0's"
    adapters = [p for p in (workdir / "artifacts" / "sft").iterdir() if not p.name.startswith(".")]
    assert len(adapters) == 1 and (adapters[0] / "adapter" / "adapter_model.safetensors").is_file()
    assert len(list((workdir / "artifacts" / ".versions" / "sft").iterdir())) == 1, "published once"
    _, runs = mlflow_runs(workdir, "demo_train")
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1, "only node 0 logs"
    [sft_run] = [r for r in runs if r.info.run_name == "sft"]
    assert sft_run.data.metrics["global_step"] == 2 and sft_run.info.status == "FINISHED"
    client, _ = mlflow_runs(workdir, "demo_train")
    assert len(client.get_metric_history(sft_run.info.run_id, "loss")) == 2, "each step's loss, logged once"
    card = json.loads(next(workdir.glob("artifacts/sft/*/adapter/medq_adapter.json")).read_text())
    assert card["mlflow_run_id"] == sft_run.info.run_id, "whichever rank saved the adapter knew the run"


def test_node_zero_address_comes_from_slurm(monkeypatch):
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    monkeypatch.delenv("MASTER_PORT", raising=False)
    monkeypatch.setenv("SLURM_JOB_NODELIST", "gpu[03-05,09],cpu1")
    assert default_rdzv_endpoint() == "gpu03:29500"
    monkeypatch.setenv("SLURM_JOB_NODELIST", "node7,node8")
    monkeypatch.setenv("MASTER_PORT", "6000")
    assert default_rdzv_endpoint() == "node7:6000"
