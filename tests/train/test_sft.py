"""SFT on a tiny Qwen3 built here: assistant-only labels, MLflow step metrics, packing, resume after a kill."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from medq.errors import MedqError
from medq.tracking import MlflowTracker
from medq.train import SFTStage

from tests.fixtures.training import FAST_TRAINING, context

REPO = Path(__file__).resolve().parents[2]


def sft_inputs(base, prepared, **extra):
    return {"model": base["model"], "template": base["chat_template"], "train": prepared["train"], **extra}


def assistant_spans(tokenizer, ids):
    """Positions from just after `<|im_start|>assistant\\n` to its `<|im_end|>`, found by reading the tokens."""
    start = tokenizer.convert_tokens_to_ids("<|im_start|>")
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    inside, keep = False, set()
    for position, token in enumerate(ids):
        if token == start:
            header = tokenizer.decode(ids[position:position + 16])
            inside = header.startswith("<|im_start|>assistant\n")
            skip_until = position + len(tokenizer.encode("<|im_start|>assistant\n", add_special_tokens=False))
            continue
        if inside and position >= skip_until:
            keep.add(position)
            if token == end:
                inside = False
    return keep


def test_prompt_tokens_are_masked_and_assistant_tokens_are_learned(tmp_path, base, prepared):
    stage = SFTStage(training=FAST_TRAINING, device="cpu", launcher="inprocess")
    trainer, _, _, tokenizer = stage.build_trainer(context("sft", tmp_path / "out", sft_inputs(base, prepared)))
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(3)])
    for row in range(3):
        ids = batch["input_ids"][row].tolist()
        labels = batch["labels"][row].tolist()
        learned = {p for p, label in enumerate(labels) if label != -100}
        assert learned == assistant_spans(tokenizer, ids) - {p for p, m in enumerate(batch["attention_mask"][row]) if not m}
        assert all(labels[p] == ids[p] for p in learned)
        system_and_user = tokenizer.decode([ids[p] for p in range(len(ids)) if p not in learned])
        assert "<|im_start|>system" in system_and_user and "<|im_start|>user" in system_and_user
        assert tokenizer.decode([ids[p] for p in sorted(learned)]).endswith("<|im_end|>")


def test_padding_free_batches_have_no_padding_and_carry_position_ids(tmp_path, base, prepared):
    stage = SFTStage(training={**FAST_TRAINING, "max_length": None}, device="cpu", padding_free=True,
                     launcher="inprocess")
    trainer, _, _, _ = stage.build_trainer(context("sft", tmp_path / "out", sft_inputs(base, prepared)))
    examples = [trainer.train_dataset[i] for i in range(4)]
    batch = trainer.data_collator(examples)
    assert batch["input_ids"].shape[0] == 1, "padding-free: the batch is one concatenated row"
    assert batch["input_ids"].shape[1] == sum(len(e["input_ids"]) for e in examples)
    assert (batch["position_ids"][0] == 0).sum() == 4, "positions restart at every example"
    assert (batch["labels"] != -100).sum() < batch["labels"].numel(), "prompts stay masked when padding-free"


def test_packing_fills_rows_with_several_examples_and_keeps_prompts_masked(tmp_path, base, prepared):
    stage = SFTStage(training={**FAST_TRAINING, "max_length": 512}, device="cpu", packing=True, launcher="inprocess")
    trainer, _, _, _ = stage.build_trainer(context("sft", tmp_path / "out", sft_inputs(base, prepared)))
    assert len(trainer.train_dataset) < 0.5 * sum(1 for _ in open(prepared["train"], encoding="utf-8"))
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])
    assert batch["input_ids"].shape[0] == 1 and (batch["position_ids"][0] == 0).sum() > 2
    assert 0 < (batch["labels"] != -100).sum() < batch["labels"].numel()


def test_padding_free_with_max_length_is_a_config_error(tmp_path, base, prepared):
    with pytest.raises(MedqError, match=r"sft.padding_free = true without sft.packing"):
        SFTStage(training=FAST_TRAINING, device="cpu", padding_free=True, launcher="inprocess").build_trainer(
            context("sft", tmp_path / "out", sft_inputs(base, prepared)))


def test_sft_stage_trains_logs_step_metrics_to_mlflow_and_saves_the_adapter(tmp_path, base, prepared):
    tracker = MlflowTracker(f"sqlite:///{tmp_path}/mlruns/mlflow.db", "sft-test", str(tmp_path / "mlruns" / "art"))
    with tracker.pipeline_run("p", {}, {}), tracker.stage_run("sft", {}) as stage_tracker:
        stage = SFTStage(training=FAST_TRAINING, peft={"r": 4, "alpha": 8}, device="cpu", launcher="inprocess")
        artifacts = stage.run(context("sft", tmp_path / "out", sft_inputs(base, prepared,
                                                                          validation=prepared["validation"]),
                                      stage_tracker))
        run_id = stage_tracker.run_id
    adapter = tmp_path / "out" / artifacts["adapter"]
    assert {"adapter_model.safetensors", "adapter_config.json", "medq_adapter.json", "chat_template.jinja"} <= \
        {p.name for p in adapter.iterdir()}
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{tmp_path}/mlruns/mlflow.db")
    for metric in ("loss", "learning_rate", "grad_norm", "train_tokens_per_second", "peak_memory_mb",
                   "num_input_tokens_seen"):
        history = client.get_metric_history(run_id, metric)
        assert history, f"{metric} not logged"
        assert all(h.value >= 0 for h in history)
    assert [h.step for h in client.get_metric_history(run_id, "loss")] == [1, 2, 4, 6]
    run = client.get_run(run_id)
    assert run.data.metrics["global_step"] == 6 and run.data.metrics["eval_loss"] > 0
    assert run.data.tags["precision"] == "fp32" and run.data.tags["device"] == "cpu"
    assert "adapter/adapter_model.safetensors" in {a.path for a in client.list_artifacts(run_id, "adapter")}
    assert not (tmp_path / ".checkpoints").exists(), "checkpoints are removed after a completed run"


def test_dataset_without_messages_fails_before_training(tmp_path, base, prepared):
    bad = tmp_path / "train.jsonl"
    bad.write_text(json.dumps({"prompt": "头痛", "response": "休息"}, ensure_ascii=False) + "\n")
    stage = SFTStage(training=FAST_TRAINING, device="cpu", launcher="inprocess")
    with pytest.raises(MedqError, match=r"train.jsonl: line 1: no 'messages' field \(found: prompt, response\)"):
        stage.run(context("sft", tmp_path / "out", {**sft_inputs(base, prepared), "train": bad}))


def test_checkpoint_dir_from_another_run_is_refused(tmp_path, base, prepared):
    foreign = tmp_path / "ckpt"
    (foreign / "checkpoint-3").mkdir(parents=True)
    (foreign / "medq_run.json").write_text(json.dumps({"fingerprint": "0" * 64}))
    stage = SFTStage(training=FAST_TRAINING, device="cpu", checkpoint_dir=str(foreign), launcher="inprocess")
    with pytest.raises(MedqError, match=r"ckpt: checkpoint folder belongs to another run .* set sft.checkpoint_dir"):
        stage.run(context("sft", tmp_path / "out", sft_inputs(base, prepared)))
    (foreign / "medq_run.json").unlink()
    with pytest.raises(MedqError, match=r"holds checkpoints that medq did not write for this run"):
        stage.run(context("sft", tmp_path / "out", sft_inputs(base, prepared)))


def _worker_request(tmp_path, base, prepared, scratch_dir):
    config = {"sft": {"_target_": "medq.train.SFTStage", "device": "cpu", "launcher": "inprocess",
                      "peft": {"r": 4, "alpha": 8},
                      "training": {**FAST_TRAINING, "max_steps": 40, "save_steps": 4, "save_total_limit": 3,
                                   "batch_size": 2}}}
    frozen = tmp_path / "resolved_config.yaml"
    frozen.write_text(OmegaConf.to_yaml(OmegaConf.create(config)))
    out = tmp_path / "stage_out"
    out.mkdir(exist_ok=True)
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"config": str(frozen), "stage": "sft", "output_dir": str(out), "seed": 0,
                                   "scratch_dir": str(scratch_dir),
                                   "inputs": {k: str(v) for k, v in sft_inputs(base, prepared).items()}}))
    return request, out


@pytest.mark.slow
def test_killed_training_resumes_from_its_last_checkpoint_and_continues_the_step_count(tmp_path, base, prepared):
    # what the runner does: the worker gets the stage's per-cache-key scratch folder, which outlives a killed attempt
    scratch = tmp_path / ".key.scratch"
    checkpoints = scratch / "checkpoints"
    request, out = _worker_request(tmp_path, base, prepared, scratch)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MLFLOW_RUN_ID", None)
    worker = subprocess.Popen([sys.executable, "-m", "medq.stage_worker", str(request)], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not (checkpoints / "checkpoint-8" / "trainer_state.json").is_file():
        assert worker.poll() is None, "the worker ended before it was killed"
        assert time.time() < deadline, "no checkpoint-8 within 240 s"
        time.sleep(0.2)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert not (out / ".worker_result.json").exists()
    saved = sorted(int(p.name.split("-")[1]) for p in checkpoints.glob("checkpoint-*")
                   if (p / "trainer_state.json").is_file())
    assert saved and saved[-1] < 40, f"killed mid-training, found checkpoints {saved}"

    subprocess.run([sys.executable, "-m", "medq.stage_worker", str(request)], env=env, cwd=tmp_path, check=True,
                   capture_output=True, timeout=300)
    result = json.loads((out / ".worker_result.json").read_text())
    assert result["metrics"]["resumed_from_step"] == saved[-1]
    assert result["metrics"]["global_step"] == 40
    assert result["metrics"]["steps_this_run"] == 40 - saved[-1]
    assert (out / "adapter" / "adapter_model.safetensors").is_file()


def test_out_of_gpu_memory_names_the_knobs_that_reduce_memory(tmp_path, base, prepared):
    import torch
    from transformers import TrainerCallback

    from medq.train.checkpoints import train_resumably

    class OutOfMemoryAtFirstStep(TrainerCallback):  # what CUDA raises when an allocation fails
        def on_step_begin(self, args, state, control, **kwargs):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    stage = SFTStage(training=FAST_TRAINING, device="cpu", launcher="inprocess")
    ctx = context("sft", tmp_path / "out", sft_inputs(base, prepared))
    trainer, checkpoints, _, _ = stage.build_trainer(ctx)
    trainer.add_callback(OutOfMemoryAtFirstStep())
    with pytest.raises(MedqError, match=r"sft: out of GPU memory; reduce sft.training.batch_size .* "
                                        r"sft.training.gradient_checkpointing=true, use sft.peft.method=qlora"):
        train_resumably(trainer, checkpoints, ctx.tracker)
