"""Real small inputs for the training tests: the prepare stage on synthetic data, a tiny Qwen3 built from it."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from medq.prepare.sources import SyntheticSource
from medq.stage import StageContext
from medq.tracking import StageTracker

from ..prepare_helpers import run_prepare

TINY = {"vocab_size": 1024, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8}
FAST_TRAINING = {"learning_rate": 3e-3, "max_steps": 6, "batch_size": 4, "max_length": 192, "logging_steps": 2,
                 "save_steps": 3, "warmup_ratio": 0.0, "lr_scheduler": "constant"}


def context(stage: str, output_dir: Path, inputs: dict, tracker: StageTracker | None = None, seed: int = 0):
    output_dir.mkdir(parents=True, exist_ok=True)
    return StageContext(stage, output_dir, {k: Path(v) for k, v in inputs.items()}, tracker or StageTracker(None, None),
                        seed)


def prepare_data(root: Path, n_questions: int = 80) -> dict[str, Path]:
    source = SyntheticSource(str(root / "synthetic"), n_questions=n_questions, seed=0, messy=False)
    out = root / "prepare"
    artifacts, _ = run_prepare(out, source, seed=0, save_hf_dataset=False)
    return {name: out / rel for name, rel in artifacts.items()}


def build_base(root: Path, prepared: dict[str, Path], **overrides) -> dict[str, Path]:
    from medq.train import BaseModelStage

    stage = BaseModelStage(source="tiny", tiny={**TINY, **overrides}, inputs={"corpus": "prepare.train"})
    out = root / "base_model"
    artifacts = stage.run(context("base_model", out, {"corpus": prepared["train"]}))
    return {name: out / rel for name, rel in artifacts.items()}
