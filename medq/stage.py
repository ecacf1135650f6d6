"""The stage contract: what a stage receives (`StageContext`), what it is (`Stage`) and what running it gave
(`StageOutcome`). Stages import this module, never the runner that orchestrates them (medq/runner.py), so a
stage can be read, tested and hashed without the orchestration around it (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Protocol

from medq.errors import ConfigError
from medq.tracking import StageTracker


@dataclass
class StageContext:
    stage: str
    output_dir: Path
    inputs: dict[str, Path]
    tracker: StageTracker
    seed: int
    # Survives a failed or killed attempt of the same stage (same cache key) and is deleted after success:
    # the place for training checkpoints, so a rerun resumes instead of starting over. Not created in
    # advance: a stage that wants it calls scratch_dir.mkdir(exist_ok=True).
    scratch_dir: Path | None = None


class Stage(Protocol):
    def run(self, ctx: StageContext) -> Mapping[str, str]: ...


def require_inputs(stage: str, inputs: Mapping[str, Any], defaults: Mapping[str, str], *keys: str) -> None:
    """A stage's constructor check: every named input is wired, or a ConfigError naming `STAGE.inputs.KEY` and
    the usual value."""
    for key in keys:
        if key not in inputs:
            raise ConfigError(f"{stage}.inputs.{key} is missing (e.g. {key}: {defaults[key]}).")


@dataclass
class StageOutcome:
    stage: str
    output_dir: Path
    artifacts: dict[str, Path]
    cached: bool
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class Distributed:
    """How training processes are laid out (`conf/distributed/*.yaml`)."""

    name: str = "single"
    num_processes: int = 1                    # ranks per node
    deepspeed: dict[str, Any] | None = None   # a DeepSpeed config; "auto" values are filled from `Training`
    # Several machines (docs/training.md): every node runs the same medq command on a shared filesystem; node 0
    # runs the pipeline and logs, the others join each multi-node stage. The node's rank is not config (it would
    # change the cache key per node): MEDQ_NODE_RANK or SLURM_NODEID.
    nnodes: int = 1
    rdzv_endpoint: str | None = None          # host:port of node 0; None: SLURM's first node (or MASTER_ADDR), :29500
    # static: torchrun --node_rank=<this node's rank>, so global rank 0 is on node 0. c10d (also chosen by setting
    # rdzv_id): torchrun's elastic rendezvous, which orders nodes by host name and pid, not by node rank, so
    # global rank 0 may sit on any node; medq then logs from node 0's local rank 0 (medq/stage_worker.py).
    rdzv_backend: Literal["static", "c10d"] = "static"
    rdzv_id: str | None = None                # the job's rendezvous id; None: SLURM_JOB_ID, else one per stage run
