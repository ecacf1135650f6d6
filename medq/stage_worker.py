"""Runs one stage from a frozen (fully resolved) config, outside Hydra.

`python -m medq.stage_worker REQUEST.json` — the runner writes the request; multi-process launchers
(`torchrun`, `accelerate launch`) start this module in every rank, so Hydra never runs inside a worker.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from omegaconf import OmegaConf

from medq.errors import MedqError
from medq.logs import quiet_console
from medq.runner import StageContext, build_stage
from medq.tracking import StageTracker


def run_request(request_path: Path) -> None:
    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    rank = int(os.environ.get("RANK", "0"))
    if request.get("log_dir"):  # warnings and library chatter: <run folder>/<stage>.rank<N>.log, not the console
        quiet_console(Path(request["log_dir"]) / f"{request['stage']}.rank{rank}.log")
    config = OmegaConf.to_container(OmegaConf.load(request["config"]), resolve=True)
    stage = build_stage(config, request["stage"])
    client = None
    run_id = os.environ.get("MLFLOW_RUN_ID")
    if run_id and rank == 0:  # one rank logs, or every metric would be recorded once per rank
        from mlflow.tracking import MlflowClient

        client = MlflowClient(os.environ.get("MLFLOW_TRACKING_URI"))
    tracker = StageTracker(client, run_id if rank == 0 else None)
    output_dir = Path(request["output_dir"])
    scratch = request.get("scratch_dir")
    ctx = StageContext(request["stage"], output_dir, {k: Path(v) for k, v in request["inputs"].items()},
                       tracker, int(request["seed"]), Path(scratch) if scratch else None)
    artifacts = dict(stage.run(ctx))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    print(f"medq.stage_worker: {request['stage']} rank {rank}/{world} finished", file=sys.stderr, flush=True)
    if rank == 0:
        (output_dir / ".worker_result.json").write_text(
            json.dumps({"artifacts": artifacts, "metrics": tracker.metrics}), encoding="utf-8")


def main() -> None:
    try:
        run_request(Path(sys.argv[1]))
    except MedqError as exc:
        print(f"medq: error: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
