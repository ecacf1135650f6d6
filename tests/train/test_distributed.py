"""The DeepSpeed path on CPU: one process, gloo, ZeRO-2, LoRA, launched like a rank (medq.stage_worker)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from medq.config import config_dirs
from medq.serve.launcher import free_port

from tests.fixtures.training import FAST_TRAINING

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_zero2_lora_step_on_cpu_in_one_process(tmp_path, base, prepared):
    distributed = yaml.safe_load((config_dirs()[0] / "distributed" / "zero2.yaml").read_text())
    checkpoints = tmp_path / "checkpoints"
    config = {"sft": {"_target_": "medq.train.SFTStage", "device": "cpu", "launcher": "inprocess",
                      "distributed": distributed, "checkpoint_dir": str(checkpoints), "keep_checkpoints": True,
                      "peft": {"r": 4, "alpha": 8}, "training": {**FAST_TRAINING, "max_steps": 2, "save_steps": 2}}}
    frozen = tmp_path / "resolved_config.yaml"
    frozen.write_text(OmegaConf.to_yaml(OmegaConf.create(config)))
    out = tmp_path / "out"
    out.mkdir()
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"config": str(frozen), "stage": "sft", "output_dir": str(out), "seed": 0,
                                   "inputs": {"model": str(base["model"]), "template": str(base["chat_template"]),
                                              "train": str(prepared["train"])}}))
    # what torchrun sets for a world of one; DeepSpeed picks gloo on CPU
    env = {**os.environ, "PYTHONPATH": str(REPO), "RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1",
           "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port())}
    env.pop("MLFLOW_RUN_ID", None)
    # the first run on a machine JIT-builds DeepSpeed's CPU communication op (~2 min, cached afterwards)
    done = subprocess.run([sys.executable, "-m", "medq.stage_worker", str(request)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=420)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((out / ".worker_result.json").read_text())
    assert result["metrics"]["global_step"] == 2 and result["metrics"]["train_loss"] > 0
    zero_states = list((checkpoints / "checkpoint-2").glob("global_step2/*optim_states.pt"))
    assert zero_states, "a DeepSpeed ZeRO checkpoint (partitioned optimizer state) was written"
    assert (out / "adapter" / "adapter_model.safetensors").is_file()


@pytest.mark.slow
def test_two_rank_sft_runs_under_torchrun_from_the_frozen_config(workdir):
    """num_processes=2 makes the runner start torchrun; two gloo ranks train the tiny model on CPU."""
    import json

    from tests.conftest import mlflow_runs, run_medq

    result = run_medq(["+recipe=demo_train", "stages=[prepare,base_model,sft]", "sft.distributed.num_processes=2",
                       "sft.launcher=subprocess", "prepare.source.n_questions=120"], cwd=workdir,
                      env={"HF_HUB_OFFLINE": "1"}, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "[rank1]" in result.stderr or "rank1" in result.stdout + result.stderr
    [sft_dir] = (workdir / "artifacts" / "sft").iterdir()
    manifest = json.loads((sft_dir / "manifest.json").read_text())
    assert (sft_dir / manifest["artifacts"]["adapter"]["path"] / "adapter_config.json").is_file()
    _, runs = mlflow_runs(workdir, "demo_train")
    [sft_run] = [r for r in runs if r.info.run_name == "sft"]
    assert sft_run.data.metrics["train_loss"] > 0
