"""Resumable training: a checkpoint folder owned by one run, and step metrics into the stage's MLflow run.

The runner deletes a failed stage's staging folder, so checkpoints live in the runner's per-cache-key
`ctx.scratch_dir` (or `<stage>.checkpoint_dir`), owned by a fingerprint of everything that decides the training
(stage config, seed, input hashes). A rerun after a crash or kill finds the same folder and resumes from its last
checkpoint; a folder written by a different run is refused instead of silently mixing two trainings.
"""

from __future__ import annotations

import json
import logging
import resource
import shutil
import sys
from pathlib import Path
from typing import Any, Mapping

from medq.artifacts import sha256_json, sha256_path
from medq.errors import MedqError
from medq.tracking import StageTracker

log = logging.getLogger(__name__)
OWNER_FILE = "medq_run.json"


def training_fingerprint(stage: str, config: Mapping[str, Any], inputs: Mapping[str, Path], seed: int) -> str:
    return sha256_json({"stage": stage, "config": config, "seed": seed,
                        "inputs": {k: sha256_path(v) for k, v in sorted(inputs.items())}})


class CheckpointDir:
    def __init__(self, path: Path, fingerprint: str, config_key: str):
        self.path = Path(path)
        self.fingerprint = fingerprint
        self.config_key = config_key

    @classmethod
    def for_stage(cls, configured: str | None, ctx: Any, fingerprint: str) -> "CheckpointDir":
        key = f"{ctx.stage}.checkpoint_dir"
        if configured:
            return cls(Path(configured), fingerprint, key)
        if getattr(ctx, "scratch_dir", None) is not None:
            # the runner's per-cache-key folder: survives a failed or killed attempt, deleted after success
            return cls(Path(ctx.scratch_dir) / "checkpoints", fingerprint, key)
        # called outside the runner: beside the output, stable across reruns with the same fingerprint
        return cls(Path(ctx.output_dir).parent / ".checkpoints" / fingerprint[:16], fingerprint, key)

    def _checkpoints(self) -> list[Path]:
        return sorted((p for p in self.path.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()),
                      key=lambda p: int(p.name.split("-")[-1]))

    def check(self) -> None:
        """Refuse a folder written by another run (before any model is loaded)."""
        owner = self.path / OWNER_FILE
        checkpoints = self._checkpoints()
        if owner.is_file():
            recorded = json.loads(owner.read_text(encoding="utf-8")).get("fingerprint")
            if recorded != self.fingerprint:
                raise MedqError(f"{self.path}: checkpoint folder belongs to another run (fingerprint "
                                f"{str(recorded)[:12]}, this run {self.fingerprint[:12]}); delete it or set "
                                f"{self.config_key} to a fresh folder.")
        elif checkpoints:
            raise MedqError(f"{self.path}: holds checkpoints that medq did not write for this run (no {OWNER_FILE}); "
                            f"delete it or set {self.config_key} to a fresh folder.")

    def claim(self) -> str | None:
        """Create or adopt the folder; return the checkpoint to resume from (None: start fresh)."""
        self.check()
        checkpoints = self._checkpoints()
        owner = self.path / OWNER_FILE
        self.path.mkdir(parents=True, exist_ok=True)
        owner.write_text(json.dumps({"fingerprint": self.fingerprint}) + "\n", encoding="utf-8")
        complete = [c for c in checkpoints if (c / "trainer_state.json").is_file()]
        return str(complete[-1]) if complete else None

    def release(self, keep: bool) -> None:
        if not keep:
            shutil.rmtree(self.path, ignore_errors=True)
            if self.path.parent.name == ".checkpoints" and not any(self.path.parent.iterdir()):
                self.path.parent.rmdir()


def peak_memory_mb() -> float:
    import torch

    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return torch.cuda.max_memory_allocated() / 2**20
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return rss / (2**20 if sys.platform == "darwin" else 2**10)


def tracking_callback(tracker: StageTracker) -> Any:
    """A transformers callback sending every log line (loss, lr, grad norm, tokens/s) to the stage's run."""
    from transformers import TrainerCallback

    class StepMetricsToMlflow(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            # every rank gets the same (all-reduced) log line; the tracker knows whether this process logs
            # (medq/stage_worker.py: node 0's local rank 0, which under c10d need not be global rank 0)
            if not logs:
                return
            numeric = {k: float(v) for k, v in logs.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            numeric["peak_memory_mb"] = peak_memory_mb()
            tracker.log_metrics(numeric, step=state.global_step)
            if "loss" in numeric and state.is_world_process_zero:  # one console line per logging step
                log.info("step %d/%d loss %.4f lr %.3g grad norm %.3g", state.global_step, state.max_steps,
                         numeric["loss"], numeric.get("learning_rate", float("nan")),
                         numeric.get("grad_norm", float("nan")))

    return StepMetricsToMlflow()


def train_resumably(trainer: Any, checkpoints: CheckpointDir, tracker: StageTracker) -> dict[str, float]:
    """`trainer.train()`, resuming from the run's last checkpoint; returns the summary metrics."""
    import torch

    resume = checkpoints.claim()
    start_step = 0
    if resume:
        start_step = json.loads((Path(resume) / "trainer_state.json").read_text(encoding="utf-8"))["global_step"]
        log.info("resuming from %s (step %d)", resume, start_step)
        tracker.set_tags({"resumed_from": resume})
    trainer.add_callback(tracking_callback(tracker))
    # with tqdm off, transformers prints every log dict to stdout; the line above logs it instead (console + run log)
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    if getattr(trainer, "is_deepspeed_enabled", False):
        plugin = trainer.accelerator.state.deepspeed_plugin
        tracker.set_tags({"deepspeed_zero_stage": plugin.zero_stage})
    try:
        result = trainer.train(resume_from_checkpoint=resume)
    except torch.cuda.OutOfMemoryError:
        stage = checkpoints.config_key.split(".")[0]
        extra = f"use {stage}.peft.method=qlora, " if stage == "sft" else \
            f"set {stage}.precompute_ref_log_probs=true, "
        raise MedqError(f"{stage}: out of GPU memory; reduce {stage}.training.batch_size (raise "
                        f"{stage}.training.gradient_accumulation_steps to keep the effective batch), lower "
                        f"{stage}.training.max_length, set {stage}.training.gradient_checkpointing=true, {extra}"
                        f"or distributed=zero3_offload. Training resumes from the last checkpoint.") from None
    history = trainer.state.log_history
    speeds = [h["train_tokens_per_second"] for h in history if "train_tokens_per_second" in h]
    metrics = {"train_loss": float(result.training_loss), "global_step": float(trainer.state.global_step),
               "resumed_from_step": float(start_step), "steps_this_run": float(trainer.state.global_step - start_step),
               "num_input_tokens_seen": float(trainer.state.num_input_tokens_seen or 0),
               "peak_memory_mb": peak_memory_mb()}
    if speeds:
        metrics["train_tokens_per_second"] = float(speeds[-1])
    return metrics
