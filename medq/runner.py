"""Runs a recipe's stages in order, with content-addressed caching and resume.

A stage is any object built by `hydra.utils.instantiate` that has `run(ctx) -> {artifact name: relative path}`.
Optionally it declares
  inputs: {local name: "stage.artifact"}   artifacts of earlier stages it reads, and
  external_inputs() -> [Path]               files outside the pipeline it reads (e.g. raw data),
  outputs: (artifact names)                 what run() may return (listed by `medq --help`, checked here),
  after_publish(ctx, output_dir)            a step that needs the published folder (e.g. a model registry entry),
both of which are hashed, with its resolved config and the source of the modules it imports (medq/code_hash.py),
into its cache key. Outputs live in `artifacts_dir/<stage>/<key>/`, a symlink swapped atomically to a version folder
under `artifacts_dir/.versions/<stage>/` (medq/artifacts.py), with a manifest, so a rerun skips every stage whose
key already has a complete manifest: a pipeline that failed at stage k restarts at stage k.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Mapping

import hydra.utils
from hydra.errors import InstantiationException

import medq
from medq.artifacts import is_pinned, publish_directory, sha256_file, sha256_json, sha256_path, stat_fingerprint, write_json_atomic
from medq.code_hash import stage_code_files
from medq.errors import MedqError
from medq.stage import Stage, StageContext, StageOutcome  # noqa: F401  (the contract, re-exported)
from medq.tracking import MlflowTracker

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"


def build_stage(config: Mapping[str, Any], name: str) -> Any:
    try:
        return hydra.utils.instantiate(config[name], _convert_="all")
    except InstantiationException as exc:
        cause = exc.__cause__
        while isinstance(cause, InstantiationException) and cause.__cause__ is not None:
            cause = cause.__cause__
        if isinstance(cause, MedqError):  # a bad input file or value: the user needs its own message
            raise cause from None
        raise


# Where the ranks of a multi-node stage meet: plumbing of one launch, not part of what the stage computes. A SLURM
# job resubmitted on other nodes (another rdzv_endpoint, another rdzv_id) must find the stage it already trained.
# The world size (num_processes x nnodes) and the DeepSpeed config stay in the key: they change the result.
RENDEZVOUS_KEYS = ("rdzv_endpoint", "rdzv_backend", "rdzv_id")


def stage_cache_key(stage_config: Mapping[str, Any], seed: int, input_hashes: Mapping[str, str],
                    external_hashes: Mapping[str, str], code_hash: str) -> str:
    config = dict(stage_config)
    if isinstance(config.get("distributed"), Mapping):
        config["distributed"] = {k: v for k, v in config["distributed"].items() if k not in RENDEZVOUS_KEYS}
    return sha256_json({"config": config, "seed": seed, "inputs": input_hashes,
                        "external": external_hashes, "code": code_hash, "medq": medq.__version__})


def node_rank() -> int:
    """This machine's rank in a multi-node run (0: the node that runs the pipeline and logs)."""
    for var in ("MEDQ_NODE_RANK", "SLURM_NODEID"):
        if os.environ.get(var, "").strip():
            return int(os.environ[var])
    return 0


def default_rdzv_endpoint() -> str:
    """host:port of node 0 when the config names none: MASTER_ADDR/PORT, else SLURM's first node, port 29500."""
    host = os.environ.get("MASTER_ADDR")
    if not host and os.environ.get("SLURM_JOB_NODELIST"):
        first = re.split(r",(?![^\[]*\])", os.environ["SLURM_JOB_NODELIST"])[0]   # "gpu[03-05,09],cpu1" -> "gpu[03-05,09]"
        prefix, _, ranges = first.partition("[")
        host = prefix + (re.split(r"[-,\]]", ranges)[0] if ranges else "")
    if not host:
        raise MedqError("a multi-node stage needs node 0's address: set distributed.rdzv_endpoint=HOST:PORT "
                        "(or run under SLURM, or set MASTER_ADDR).")
    return f"{host}:{os.environ.get('MASTER_PORT', '29500')}"


def read_manifest(output_dir: Path, published: tuple[str, ...] = ("complete",)) -> dict[str, Any] | None:
    """The manifest of a stage's published folder when its status is one of `published` and its artifacts exist.
    The cache takes only "complete"; a node waiting for node 0 also takes "changed_during_run" (a result published
    for that run, not for later ones)."""
    path = output_dir / MANIFEST
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("status") not in published:
        return None
    if not all((output_dir / a["path"]).exists() for a in manifest["artifacts"].values()):
        return None
    return manifest


class Pipeline:
    """One pipeline run: the frozen config, its stages in order, one MLflow parent run."""

    def __init__(self, config: Mapping[str, Any], run_dir: Path, tracker: MlflowTracker,
                 tags: Mapping[str, str] | None = None, frozen_config_path: Path | None = None):
        self.config = config
        self.run_dir = Path(run_dir)
        self.tracker = tracker
        self.tags = dict(tags or {})
        self.frozen_config_path = frozen_config_path
        self.artifacts_dir = Path(config["paths"]["artifacts_dir"])
        self.seed = int(config.get("seed", 0))
        self.force = bool(config.get("force", False))
        self.node_rank = node_rank()
        if self.node_rank != 0:  # one MLflow run per pipeline: node 0's; the other nodes only lend their ranks
            self.tracker = MlflowTracker(tracker.tracking_uri, tracker.experiment, enabled=False)
            if self.force:  # a waiting node cannot tell a stale published folder from the one being redone
                raise MedqError("force=true is not supported with several nodes: delete the stage's folder under "
                                f"{self.artifacts_dir} instead (this is node {self.node_rank}).")
        from medq.serve.services import ModelServices

        self.services = ModelServices(config, list(config.get("stages") or []), self.run_dir, self._resolve_inputs)

    def run(self) -> dict[str, StageOutcome]:
        stages = list(self.config.get("stages") or [])
        if not stages:
            raise MedqError("no stages to run: choose a recipe, e.g. `python -m medq +recipe=demo` "
                            "(`python -m medq --help` lists them).")
        outcomes: dict[str, StageOutcome] = {}
        status_path = self.run_dir / "pipeline_status.json"
        run_name = self.config.get("name") or "pipeline"
        # model servers (serve.*) are services around the stages that name them in their inputs, not stages;
        # leaving the `with` (done or failed) stops them
        with self.services, self.tracker.pipeline_run(run_name, self.config, self.tags) as parent:
            if self.frozen_config_path is not None:
                parent.log_artifact(self.frozen_config_path)
            for index, name in enumerate(stages, start=1):
                log.info("[%d/%d] stage %s", index, len(stages), name)
                outcomes[name] = self._run_stage(name, outcomes)
                self.services.stage_done(name)
                # stage metrics on the parent too, so pipeline runs compare side by side in the MLflow UI
                parent.log_metrics({f"{name}.{k}": v for k, v in outcomes[name].metrics.items()})
                write_json_atomic(status_path, {s: {"cached": o.cached, "output_dir": str(o.output_dir)}
                                                for s, o in outcomes.items()})
            self.services.finish(outcomes)  # serve.block=true: keep serving until Ctrl-C
        return outcomes

    def _resolve_inputs(self, name: str, stage: Any, done: Mapping[str, StageOutcome]) -> dict[str, Path]:
        resolved = {}
        for local, ref in (getattr(stage, "inputs", None) or {}).items():
            producer, _, artifact = ref.partition(".")
            if self.services.provides(producer):
                resolved[local] = self.services.endpoint_file(producer, done)
                continue
            available = sorted(f"{s}.{a}" for s, o in done.items() for a in o.artifacts)
            if producer not in done or artifact not in done[producer].artifacts:
                raise MedqError(f"stage '{name}' needs input '{local}' = '{ref}', which no earlier stage produced. "
                                f"Available: {', '.join(available) or 'none'}.")
            resolved[local] = done[producer].artifacts[artifact]
        return resolved

    def _run_stage(self, name: str, done: Mapping[str, StageOutcome]) -> StageOutcome:
        stage_config = self.config[name]
        stage = build_stage(self.config, name)
        inputs = self._resolve_inputs(name, stage, done)
        external = [Path(p) for p in (stage.external_inputs() if hasattr(stage, "external_inputs") else [])]
        code_files = stage_code_files(stage, stage_config)
        # taken before hashing: a file edited from here until the stage ends (a CSV the stage reads while it runs, a
        # module it imports inside run()) may have given a result that is not the hashed one's
        before = stat_fingerprint([*code_files.values(), *external])
        input_hashes = {k: self.services.hash_of(p) or sha256_path(p) for k, p in inputs.items()}
        external_hashes = {str(p): sha256_path(p) for p in external}
        code_hashes = {module: sha256_file(path) for module, path in code_files.items()}
        key = stage_cache_key(stage_config, self.seed, input_hashes, external_hashes, sha256_json(code_hashes))
        output_dir = self.artifacts_dir / name / key[:16]
        # a stage that runs services (cacheable = False, e.g. the assistant demo) runs every time
        manifest = None if self.force or not getattr(stage, "cacheable", True) else read_manifest(output_dir)
        tags = {"stage": name, "cache_key": key, **{k: v for k, v in self.tags.items() if k != "mlflow.runName"}}
        if manifest is None and self.node_rank != 0:
            return self._follow_stage(name, stage, output_dir)
        if manifest is not None:
            log.info("stage %s: cached (%s); pass force=true to rerun", name, output_dir)
            with self.tracker.stage_run(name, {**tags, "cached": "true",
                                              "cached_from_run": manifest.get("mlflow_run_id") or ""}) as tracker:
                tracker.log_metrics(manifest.get("metrics", {}))
                tracker.log_artifact(output_dir / MANIFEST)
            return StageOutcome(name, output_dir, _artifact_paths(output_dir, manifest), True, manifest.get("metrics", {}))

        staging = output_dir.parent / f".{output_dir.name}.{uuid.uuid4().hex[:8]}.tmp"
        staging.mkdir(parents=True)
        scratch = output_dir.parent / f".{output_dir.name}.scratch"  # created by the stage if it needs one
        started = time.time()
        try:
            with self.tracker.stage_run(name, {**tags, "cached": "false"}) as tracker:
                tracker.log_params({"stage_config": stage_config})
                self.services.start_for(name, inputs)
                ctx = StageContext(name, staging, inputs, tracker, self.seed, scratch)
                if getattr(stage, "launcher", None) in ("subprocess", "torchrun"):
                    artifacts, metrics = self._run_in_subprocess(name, stage, ctx)
                else:
                    artifacts, metrics = dict(stage.run(ctx)), dict(tracker.metrics)
                undeclared = sorted(set(artifacts) - set(getattr(stage, "outputs", None) or artifacts))
                if undeclared:  # `outputs` is what `medq --help` shows: it must not drift from what run() returns
                    raise MedqError(f"stage '{name}' returned artifact(s) {', '.join(undeclared)} that "
                                    f"{type(stage).__name__}.outputs does not declare.")
                after = stat_fingerprint([*code_files.values(), *external])
                changed = sorted(f for f in before.keys() | after.keys() if before.get(f) != after.get(f))
                if changed:
                    log.warning("stage %s: %s changed while it ran, so its result may not be the one its cache key "
                                "names; it is kept for this run but will not be served from the cache",
                                name, ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else ""))
                manifest = {
                    "status": "changed_during_run" if changed else "complete", "stage": name, "cache_key": key,
                    "medq_version": medq.__version__, **({"changed_during_run": changed} if changed else {}),
                    "inputs": {k: {"path": str(inputs[k]), "sha256": h} for k, h in input_hashes.items()},
                    "external_inputs": external_hashes, "code": code_hashes,
                    "artifacts": {a: {"path": rel, "sha256": sha256_path(staging / rel)} for a, rel in artifacts.items()},
                    "metrics": metrics, "mlflow_run_id": tracker.run_id,
                    "seconds": round(time.time() - started, 3), "completed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                }
                write_json_atomic(staging / MANIFEST, manifest)
                # atomic: output_dir is a symlink swapped to a new version folder (medq/artifacts.py)
                version = publish_directory(staging, output_dir, self.artifacts_dir / ".versions" / name)
                shutil.rmtree(scratch, ignore_errors=True)
                tracker.log_artifact(output_dir / MANIFEST)
                self._after_publish(stage, StageContext(name, output_dir, inputs, tracker, self.seed), version)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return StageOutcome(name, output_dir, _artifact_paths(output_dir, manifest), False, manifest["metrics"])

    def _follow_stage(self, name: str, stage: Any, output_dir: Path) -> StageOutcome:
        """On a node other than 0: join the stage's ranks if it spans nodes, and wait until node 0 publishes it."""
        timeout = float(os.environ.get("MEDQ_FOLLOW_TIMEOUT_S", 7 * 24 * 3600))
        spans_nodes = getattr(stage, "launcher", None) == "torchrun" and _layout(stage, "nnodes", 1) > 1
        pointer = output_dir.parent / f".{output_dir.name}.request.json"
        joined, started = False, time.time()
        log.info("stage %s: node %d waits for node 0%s", name, self.node_rank, " to start it" if spans_nodes else "")
        while (manifest := read_manifest(output_dir, ("complete", "changed_during_run"))) is None:
            if spans_nodes and not joined and pointer.is_file():
                request = Path(json.loads(pointer.read_text(encoding="utf-8"))["request"])
                completed = subprocess.run(_worker_command(stage, request, self.node_rank))
                if completed.returncode != 0:
                    raise MedqError(f"stage '{name}' failed in its ranks on node {self.node_rank} "
                                    f"(exit code {completed.returncode}).")
                joined = True
            if time.time() - started > timeout:
                raise MedqError(f"stage '{name}': node 0 did not publish {output_dir} within {timeout:.0f} s "
                                f"(MEDQ_FOLLOW_TIMEOUT_S).")
            time.sleep(1.0)
        return StageOutcome(name, output_dir, _artifact_paths(output_dir, manifest), not joined,
                            manifest.get("metrics", {}))

    @staticmethod
    def _after_publish(stage: Any, ctx: StageContext, version: Path) -> None:
        """The stage's optional post-publish step, given the published folder (e.g. to register it in a model
        registry). If it fails the stage is unpublished, so the next run does the whole stage again."""
        if not hasattr(stage, "after_publish"):
            return
        try:
            stage.after_publish(ctx, ctx.output_dir)
        except BaseException:
            if ctx.output_dir.is_symlink() and ctx.output_dir.resolve() == version.resolve():
                ctx.output_dir.unlink()
                if not is_pinned(version):
                    shutil.rmtree(version, ignore_errors=True)
            raise

    def _run_in_subprocess(self, name: str, stage: Any, ctx: StageContext) -> tuple[dict[str, str], dict[str, float]]:
        """Run the stage in fresh processes from the frozen config: one (`launcher: subprocess`) or
        `stage.distributed.num_processes` ranks under torchrun (`launcher: torchrun`); Hydra never runs inside them."""
        if self.frozen_config_path is None:
            raise MedqError(f"stage '{name}' runs as a subprocess but the pipeline has no frozen config file.")
        request = ctx.output_dir / ".worker_request.json"
        request.write_text(json.dumps({"config": str(self.frozen_config_path), "stage": name,
                                       "inputs": {k: str(v) for k, v in ctx.inputs.items()},
                                       "output_dir": str(ctx.output_dir), "scratch_dir": str(ctx.scratch_dir),
                                       "seed": ctx.seed, "log_dir": str(self.run_dir),
                                       "mlflow_run_id": ctx.tracker.run_id}), encoding="utf-8")
        env = {**os.environ, **self.tracker.stage_env(ctx.tracker.run_id)}
        pointer = None
        if stage.launcher == "torchrun" and _layout(stage, "nnodes", 1) > 1:
            # the other nodes wait for this pointer (shared filesystem) and join with the same request
            pointer = _request_pointer(ctx.output_dir)
            write_json_atomic(pointer, {"request": str(request)})
        try:
            completed = subprocess.run(_worker_command(stage, request, self.node_rank), env=env)
        finally:
            if pointer is not None:
                pointer.unlink(missing_ok=True)
        result_path = ctx.output_dir / ".worker_result.json"
        request.unlink(missing_ok=True)
        if completed.returncode != 0 or not result_path.is_file():
            raise MedqError(f"stage '{name}' failed in its worker process (exit code {completed.returncode}).")
        result = json.loads(result_path.read_text(encoding="utf-8"))
        result_path.unlink()
        return result["artifacts"], result["metrics"]


def _layout(stage: Any, key: str, default: Any) -> Any:
    """One key of the stage's process layout, `stage.distributed` (medq.stage.Distributed for sft/dpo)."""
    value = getattr(getattr(stage, "distributed", None), key, None)
    return default if value is None else (int(value) if isinstance(default, int) else value)


def _worker_command(stage: Any, request: Path, rank_of_node: int) -> list[str]:
    worker = ["-m", "medq.stage_worker", str(request)]
    if stage.launcher != "torchrun":
        return [sys.executable, *worker]
    nnodes, ranks = _layout(stage, "nnodes", 1), f"--nproc_per_node={_layout(stage, 'num_processes', 1)}"
    if nnodes == 1:
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", ranks, *worker]
    endpoint = _layout(stage, "rdzv_endpoint", None) or default_rdzv_endpoint()
    rdzv_id = _layout(stage, "rdzv_id", None)
    if rdzv_id or _layout(stage, "rdzv_backend", "static") == "c10d":
        # torchrun's elastic rendezvous: node 0 hosts the store at the endpoint, every node joins under one id.
        # Ranks follow torch's sorted node descriptors (host name, pid), not MEDQ_NODE_RANK, so global rank 0 may
        # be on another node: medq.stage_worker logs from node 0's local rank 0 and every rank knows the run id.
        # The default id is the same on every node: SLURM's job id, else one derived from the shared request path.
        rdzv_id = rdzv_id or os.environ.get("SLURM_JOB_ID") or "medq-" + sha256_json(str(request))[:16]
        return [sys.executable, "-m", "torch.distributed.run", f"--nnodes={nnodes}", ranks, "--rdzv_backend=c10d",
                f"--rdzv_endpoint={endpoint}", f"--rdzv_id={rdzv_id}", *worker]
    # static rendezvous: global rank = node rank * ranks per node + local rank, so rank 0 is on node 0 (which logs)
    host, _, port = endpoint.rpartition(":")
    return [sys.executable, "-m", "torch.distributed.run", f"--nnodes={nnodes}", f"--node_rank={rank_of_node}",
            ranks, f"--master_addr={host}", f"--master_port={port}", *worker]


def _request_pointer(staging: Path) -> Path:
    """artifacts/<stage>/.<key>.request.json for the staging folder artifacts/<stage>/.<key>.<id>.tmp."""
    return staging.parent / f".{staging.name[1:].split('.')[0]}.request.json"


def _artifact_paths(output_dir: Path, manifest: Mapping[str, Any]) -> dict[str, Path]:
    return {name: output_dir / meta["path"] for name, meta in manifest["artifacts"].items()}
