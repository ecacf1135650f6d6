"""SFT throughput and peak memory on the tiny Qwen3: padded batches vs packing / padding-free, same data.

Run from the repository root:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 HF_HUB_OFFLINE=1 python benchmarks/sft_throughput.py

What it does:
  0. prepares the synthetic demo data (`n_questions` questions) and builds the tiny base model (tokenizer trained on
     the train split, random-init Qwen3; no pretraining pass), in a scratch folder. Not timed.
  1. for each mode, in a fresh child process (so peak RSS belongs to that mode alone): `SFTStage.build_trainer`
     with LoRA, fp32 on CPU, `--epochs` over the same train split, batch size `--batch-size`, max length 512;
     then `trainer.train()` is timed. padded: one example per row, padded to the longest in the batch;
     packed: `packing=true` (BFD), rows of up to 512 tokens built from several examples, no padding;
     padding_free: `padding_free=true` without packing, each batch concatenated into one row (max_length=null:
     TRL cannot truncate then; the synthetic examples are all shorter than 512 tokens).
  2. tokens/s = real (non-pad) tokens trained on / seconds in `trainer.train()`; the tokens are counted from the
     tokenised dataset each mode trains on. peak RSS = the child's maximum resident set size (includes torch).
Figures are printed and logged to MLflow (experiment `benchmarks`, run `sft_throughput`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODES = ("padded", "packed", "padding_free")
sys.path.insert(0, str(REPO))


def measure(mode: str, root: Path, epochs: float, batch_size: int) -> dict[str, float]:
    from medq.stage import StageContext
    from medq.tracking import StageTracker
    from medq.train import SFTStage

    stage = SFTStage(training={"learning_rate": 1e-3, "epochs": epochs, "batch_size": batch_size,
                               "max_length": None if mode == "padding_free" else 512, "logging_steps": 1000,
                               "save_steps": 100000},
                     peft={"r": 16, "alpha": 32}, device="cpu", packing=mode == "packed",
                     padding_free=mode == "padding_free", launcher="inprocess")
    inputs = {"model": root / "base" / "model", "template": root / "base" / "chat_template.json",
              "train": root / "prepare" / "train.jsonl"}
    ctx = StageContext("sft", root / f"out_{mode}", inputs, StageTracker(None, None), 0)
    ctx.output_dir.mkdir(exist_ok=True)
    trainer, checkpoints, _, _ = stage.build_trainer(ctx)
    tokens = sum(len(row["input_ids"]) for row in trainer.train_dataset) * epochs
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    checkpoints.release(keep=False)
    return {"seconds": round(seconds, 2), "tokens": int(tokens), "tokens_per_s": round(tokens / seconds, 1),
            "rows": len(trainer.train_dataset), "optimizer_steps": trainer.state.global_step,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=400)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--mlflow", default=f"sqlite:///{REPO}/mlruns/mlflow.db")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, Path(args.root), args.epochs, args.batch_size)))
        return

    from medq.prepare.sources import SyntheticSource
    from medq.stage import StageContext
    from medq.tracking import MlflowTracker, StageTracker
    from medq.train import BaseModelStage
    from tests.prepare.helpers import run_prepare

    with tempfile.TemporaryDirectory(prefix="medq-sft-bench-") as tmp:
        root = Path(tmp)
        run_prepare(root / "prepare", SyntheticSource(str(root / "synthetic"), args.questions, 0, False), seed=0,
                    save_hf_dataset=False)
        (root / "base").mkdir()
        BaseModelStage(source="tiny", inputs={"corpus": "prepare.train"}).run(
            StageContext("base_model", root / "base", {"corpus": root / "prepare" / "train.jsonl"},
                         StageTracker(None, None), 0))
        results = {}
        for mode in MODES:
            child = subprocess.run([sys.executable, __file__, "--child", mode, "--root", str(root), "--epochs",
                                    str(args.epochs), "--batch-size", str(args.batch_size)],
                                   capture_output=True, text=True, check=True, env={**os.environ})
            results[mode] = json.loads(child.stdout.strip().splitlines()[-1])
    ratio = results["packed"]["tokens_per_s"] / results["padded"]["tokens_per_s"]
    ratio_free = results["padding_free"]["tokens_per_s"] / results["padded"]["tokens_per_s"]
    print(f"{'mode':<13} {'tokens':>8} {'rows':>6} {'steps':>6} {'seconds':>8} {'tokens/s':>9} {'peak RSS MB':>12}")
    for mode, r in results.items():
        print(f"{mode:<13} {r['tokens']:>8} {r['rows']:>6} {r['optimizer_steps']:>6} {r['seconds']:>8} "
              f"{r['tokens_per_s']:>9} {r['peak_rss_mb']:>12}")
    print(f"packed / padded tokens/s: {ratio:.2f}x, padding_free / padded: {ratio_free:.2f}x  ({platform.processor() or platform.machine()}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})")
    tracker = MlflowTracker(args.mlflow, "benchmarks")
    with tracker.pipeline_run("sft_throughput", {"questions": args.questions, "epochs": args.epochs,
                                                 "batch_size": args.batch_size, "model": "tiny qwen3",
                                                 "device": "cpu"}, {"benchmark": "sft_throughput"}) as run:
        run.log_metrics({f"{m}.{k}": v for m, r in results.items() for k, v in r.items()})
        run.log_metrics({"packed_over_padded_tokens_per_s": ratio,
                         "padding_free_over_padded_tokens_per_s": ratio_free})


if __name__ == "__main__":
    main()
