"""The training demo end to end through the CLI: killed during SFT, resumed, six stages tracked, then fully cached."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from ..conftest import mlflow_runs, run_medq

# sft in a worker process (the runner's subprocess launcher), checkpointing every 10 of its 46 steps
ARGS = ["+recipe=demo_train", "sft.launcher=subprocess", "sft.training.save_steps=10", "evaluate.rouge.max_examples=8"]


def kill_during_sft(workdir, env):
    process = subprocess.Popen([sys.executable, "-m", "medq", *ARGS], cwd=workdir, env={**os.environ, **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while not list(workdir.glob("artifacts/sft/.*.scratch/checkpoints/checkpoint-20/trainer_state.json")):
        assert process.poll() is None, "the pipeline ended before it could be killed"
        assert time.time() < deadline, "no SFT checkpoint-20 within 300 s"
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # the CLI and its SFT worker, like a lost machine
    process.wait()


@pytest.mark.slow
def test_demo_train_resumes_after_a_kill_tracks_lineage_and_reruns_from_cache(workdir):
    env = {"HF_HUB_OFFLINE": "1"}
    kill_during_sft(workdir, env)
    assert not list(workdir.glob("artifacts/sft/*/manifest.json")), "a killed stage publishes nothing"

    resumed = run_medq(ARGS, workdir, env, timeout=500)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    client, runs = mlflow_runs(workdir, "demo_train")
    finished = [r for r in runs if "mlflow.parentRunId" not in r.data.tags and r.info.status == "FINISHED"]
    assert len(finished) == 1
    stages = {r.info.run_name: r for r in runs if r.data.tags.get("mlflow.parentRunId") == finished[0].info.run_id}
    assert set(stages) == {"prepare", "base_model", "sft", "dpo", "merge", "evaluate"}
    assert stages["prepare"].data.tags["cached"] == "true" and stages["base_model"].data.tags["cached"] == "true"
    sft = stages["sft"].data
    assert sft.metrics["resumed_from_step"] >= 20 and sft.metrics["global_step"] == 46
    assert sft.metrics["steps_this_run"] == 46 - sft.metrics["resumed_from_step"]
    assert client.get_metric_history(stages["sft"].info.run_id, "loss"), "step losses from the worker process"
    assert stages["dpo"].data.tags["reference_model"].startswith("SFT policy (frozen copy of")
    assert stages["merge"].data.metrics["parity_passed"] == 1.0
    assert stages["evaluate"].data.metrics["rougeL_f"] > 0
    version = client.get_model_version("medq-merged", "1")
    assert version.tags["lineage.sft_run_id"] == stages["sft"].info.run_id
    assert version.tags["lineage.dpo_run_id"] == stages["dpo"].info.run_id
    # merge and evaluate say which stage they consumed: the last training stage's adapter, then the merged model
    assert version.tags["lineage.consumed"] == "dpo.adapter" == stages["merge"].data.tags["consumed"]
    assert version.tags["lineage.consumed_run_id"] == stages["dpo"].info.run_id
    assert stages["evaluate"].data.tags["consumed"] == "merge.model"
    template = json.loads(next(workdir.glob("artifacts/base_model/*/chat_template.json")).read_text())
    assert version.tags["lineage.chat_template_sha256"] == template["sha256"]
    assert not list(workdir.glob("artifacts/sft/.*.scratch")), "checkpoints are removed once the stage completes"

    again = run_medq(ARGS, workdir, env, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    summary = re.findall(r"^  (\S+)\s+(cached|done)\s", again.stdout, flags=re.M)
    assert summary == [(s, "cached") for s in ("prepare", "base_model", "sft", "dpo", "merge", "evaluate")]
