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
from medq.runner import StageContext, build_stage, node_rank
from medq.tracking import StageTracker


def run_request(request_path: Path) -> None:
    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    rank = int(os.environ.get("RANK", "0"))
    if request.get("log_dir"):  # warnings and library chatter: <run folder>/<stage>.rank<N>.log, not the console
        quiet_console(Path(request["log_dir"]) / f"{request['stage']}.rank{rank}.log")
    config = OmegaConf.to_container(OmegaConf.load(request["config"]), resolve=True)
    stage = build_stage(config, request["stage"])
    client = None
    # every rank knows the stage's run id (adapter cards record it, whichever rank saves them); on other nodes it
    # comes from the request on the shared filesystem, since only node 0 has the MLflow environment
    run_id = request.get("mlflow_run_id") or os.environ.get("MLFLOW_RUN_ID")
    # One process logs, or every metric would be recorded once per rank: local rank 0 of node 0, the node that
    # holds the pipeline's MLflow run. Not global rank 0: torchrun's c10d rendezvous may put it on another node.
    logs_here = node_rank() == 0 and int(os.environ.get("LOCAL_RANK", "0")) == 0
    if run_id and logs_here and os.environ.get("MLFLOW_RUN_ID"):
        from mlflow.tracking import MlflowClient

        client = MlflowClient(os.environ.get("MLFLOW_TRACKING_URI"))
    tracker = StageTracker(client, run_id)
    output_dir = Path(request["output_dir"])
    scratch = request.get("scratch_dir")
    ctx = StageContext(request["stage"], output_dir, {k: Path(v) for k, v in request["inputs"].items()},
                       tracker, int(request["seed"]), Path(scratch) if scratch else None)
    artifacts = dict(stage.run(ctx))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    print(f"medq.stage_worker: {request['stage']} rank {rank}/{world} finished", file=sys.stderr, flush=True)
    if logs_here:  # the metrics this process's tracker kept (every rank sees the same, all-reduced, log lines)
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
