"""Serving throughput: in-process transformers `generate` (batch 1, batched), `transformers serve` and vLLM,
side by side on the same ~50M-parameter random-init Qwen3 (medq/serve/bench.py, the `serve_bench` stage).

Run from the repository root (needs .venv-vllm: bash scripts/install.sh --vllm), on a prepared test split and a
base_model output (its tokenizer), e.g. from `python -m medq +recipe=demo_train`:

    OMP_NUM_THREADS=1 python benchmarks/serve_throughput.py --test artifacts/prepare/<key>/test.jsonl \
        --tokenizer artifacts/base_model/<key>/model [--levels 1 4 16 64] [--max-new-tokens 64] [--no-vllm]

Prints one row per backend and concurrency level and the vLLM speedup at the target level; logs everything to
MLflow (experiment `benchmarks`, run `serve_throughput`) with the plot. A GPU host: add --model-dtype bfloat16
--hidden 1024 --layers 28 (about 0.6B) and `--vllm-arg=--gpu-memory-utilization=0.8` as needed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path

from omegaconf import OmegaConf

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--tokenizer", type=Path, required=True)
    parser.add_argument("--levels", type=int, nargs="+", default=None)
    parser.add_argument("--max-new-tokens", type=int, default=None)
    parser.add_argument("--requests-per-level", type=int, default=None)
    parser.add_argument("--min-requests", type=int, default=None)
    parser.add_argument("--hidden", type=int, default=None)
    parser.add_argument("--layers", type=int, default=None)
    parser.add_argument("--model-dtype", default=None)
    parser.add_argument("--no-vllm", action="store_true")
    parser.add_argument("--no-transformers-serve", action="store_true")
    parser.add_argument("--no-in-process", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--mlflow", default=f"sqlite:///{REPO}/mlruns/mlflow.db")
    args = parser.parse_args()

    import logging

    import hydra.utils

    logging.basicConfig(level=logging.INFO, format="[%(asctime)s][%(name)s][%(levelname)s] %(message)s")

    from medq.stage import StageContext
    from medq.tracking import MlflowTracker

    config = OmegaConf.to_container(OmegaConf.load(REPO / "conf" / "serve_bench" / "default.yaml"))
    for key, value in (("levels", args.levels), ("max_new_tokens", args.max_new_tokens),
                       ("requests_per_level", args.requests_per_level), ("min_requests", args.min_requests)):
        if value is not None:
            config[key] = value
    for key, value in (("hidden_size", args.hidden), ("num_hidden_layers", args.layers), ("dtype", args.model_dtype)):
        if value is not None:
            config["model"][key] = value
    if args.no_vllm:
        config["servers"].pop("vllm")
    if args.no_in_process:
        config["in_process"] = False
    if args.no_transformers_serve:
        config["servers"].pop("transformers")
    stage = hydra.utils.instantiate(config, _convert_="all")
    out = args.out or Path(tempfile.mkdtemp(prefix="serve_bench_"))
    out.mkdir(parents=True, exist_ok=True)
    tracker = MlflowTracker(args.mlflow, "benchmarks", str(REPO / "mlruns" / "artifacts"))
    with tracker.pipeline_run("serve_throughput", {"serve_bench": config}, {"host": platform.node(),
                                                                           "cpus": str(os.cpu_count())}) as run:
        ctx = StageContext("serve_bench", out, {"test": args.test, "tokenizer": args.tokenizer}, run, 0)
        stage.run(ctx)
    results = json.loads((out / "results.json").read_text())
    print(f"{'backend':<18}{'conc':>5}{'reqs':>6}{'err':>5}{'tok/s':>10}{'req/s':>8}{'TTFT p50':>10}{'p95':>8}"
          f"{'ITL p50':>9}{'p95':>8}  (ms)")
    fmt = lambda v: "-" if v is None else f"{v:.0f}" if v >= 10 else f"{v:.1f}"
    for r in results["levels"]:
        print(f"{r['backend']:<18}{r['concurrency']:>5}{r['requests']:>6}{r['errors']:>5}{r['tokens_per_s']:>10.1f}"
              f"{r['requests_per_s']:>8.2f}{fmt(r['ttft_p50_ms']):>10}{fmt(r['ttft_p95_ms']):>8}"
              f"{fmt(r['itl_p50_ms']):>9}{fmt(r['itl_p95_ms']):>8}")
    print(json.dumps(results["summary"]))
    print(f"results: {out / 'results.json'}, plot: {out / 'tokens_per_s.png'}")


if __name__ == "__main__":
    main()
