"""`python -m medq +recipe=NAME key=value ...`: compose with Hydra, validate, freeze, run the stages."""

from __future__ import annotations

import logging
import subprocess
import sys
import traceback
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

import medq
from medq.config import config_dirs, config_groups, register_recipes, unknown_key_error, validate_pipeline_config
from medq.errors import MedqError
from medq.jobs import JobFailure, record_job, recorded_jobs, summary_table
from medq.runner import Pipeline

log = logging.getLogger("medq")
CONF_DIR, _ = config_dirs()


def git_commit() -> str:
    """Commit of the medq checkout (with '-dirty' for local changes); 'unknown' for an installed wheel."""
    source = Path(medq.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def run_tags() -> dict[str, str]:
    hydra_cfg = HydraConfig.get()
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    return {
        "recipe": hydra_cfg.runtime.choices.get("recipe") or "none",
        "git_commit": git_commit(),
        "medq_version": medq.__version__,
        "sweep_id": f"{Path(hydra_cfg.sweep.dir).parent.name}/{Path(hydra_cfg.sweep.dir).name}" if multirun else "none",
        "sweep_job": str(hydra_cfg.job.num) if multirun else "none",
        "overrides": " ".join(hydra_cfg.overrides.task),
    }


def objective_value(objective: str | None, outcomes: dict) -> float | None:
    if not objective:
        return None
    stage, _, metric = objective.partition(".")
    if stage not in outcomes:
        raise MedqError(f"objective '{objective}': no stage '{stage}' ran (stages: {', '.join(outcomes)})")
    metrics = outcomes[stage].metrics
    if metric not in metrics:
        raise MedqError(f"objective '{objective}': stage '{stage}' logged no metric '{metric}' "
                        f"(it logged: {', '.join(sorted(metrics))})")
    return metrics[metric]


def run_pipeline(cfg: DictConfig) -> float | JobFailure | None:
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    in_sweep = hydra_cfg.mode == RunMode.MULTIRUN
    job, overrides = str(hydra_cfg.job.num) if in_sweep else "-", " ".join(hydra_cfg.overrides.task)
    try:
        container = validate_pipeline_config(cfg)
        frozen = run_dir / "resolved_config.yaml"
        frozen.write_text(OmegaConf.to_yaml(OmegaConf.create(container)), encoding="utf-8")
        tracker = hydra.utils.instantiate(container["tracking"])
        outcomes = Pipeline(container, run_dir, tracker, run_tags(), frozen).run()
        objective = objective_value(container.get("objective"), outcomes)
    except Exception as exc:
        if isinstance(exc, MedqError):
            cause = str(exc)
        else:  # anything unforeseen: one line on the console, the traceback in the run log
            log.debug("".join(traceback.format_exception(exc)))
            (run_dir / "traceback.txt").write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
            cause = f"{type(exc).__name__}: {exc}".splitlines()[0] + f" (traceback: {run_dir / 'traceback.txt'})"
        print(f"medq: error: {cause}", file=sys.stderr)
        if not in_sweep:
            sys.exit(1)
        # a sweep goes on: Hydra's job runner would not catch SystemExit, and the other jobs must still run
        record_job(run_dir, job, overrides, "failed", cause)
        return JobFailure(cause)
    width = max(len(name) for name in outcomes)
    for name, outcome in outcomes.items():
        state = "cached" if outcome.cached else "done"
        print(f"  {name:<{width}} {state:<7} {outcome.output_dir}")
    print(f"run folder: {run_dir}")
    if objective is not None:
        print(f"objective {container['objective']} = {objective:g}")
    if in_sweep:
        record_job(run_dir, job, overrides, "cached" if all(o.cached for o in outcomes.values()) else "ok",
                   str(run_dir))
    return objective


def check_overrides(args: list[str]) -> None:
    """Fail before Hydra runs anything when a `key=value` override names a key the composed config lacks."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    raw = [a for a in args if "=" in a and not a.startswith("-")]
    try:
        overrides = OverridesParser.create().parse_overrides(raw)
    except Exception:
        return  # Hydra reports syntax errors itself
    groups = set(config_groups())
    structural, values = [], []
    for override, text in zip(overrides, raw):
        key = override.key_or_group
        if override.is_sweep_override():
            first = next(iter(override.sweep_string_iterator()))
            text = f"{override.get_key_element()}={first}"
        if key.startswith("hydra") or key in groups or override.is_add() or override.is_delete() or override.is_force_add():
            structural.append(text)
        else:
            values.append((key, text))
    if not values:
        return
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose("config", overrides=structural)
    except Exception:
        return  # let Hydra report composition errors (unknown group options list the valid ones)
    finally:
        GlobalHydra.instance().clear()
    for key, _ in values:
        parent_path, _, leaf = key.rpartition(".")
        parent = OmegaConf.select(cfg, parent_path) if parent_path else cfg
        if parent is None:
            raise unknown_key_error("", key, [k for k in cfg.keys()])
        # keys(), not `in`: a DictConfig says a key whose value is ??? (required, unset) is not in it
        if isinstance(parent, DictConfig) and leaf not in parent.keys():
            raise unknown_key_error(parent_path, leaf, [k for k in parent.keys() if not str(k).startswith("_")])


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def _hydra_main(cfg: DictConfig) -> float | None:
    return run_pipeline(cfg)


def main() -> None:
    from hydra.core.plugins import Plugins

    from hydra_plugins.medq_optuna.medq_optuna_sweeper import MedqOptunaSweeper

    Plugins.instance().register(MedqOptunaSweeper)  # hydra/sweeper=medq_optuna, also under editable installs

    register_recipes()
    if any(a in ("--help", "-h") for a in sys.argv[1:]):  # stages, their artifacts and recipes (medq/help.py)
        from medq.help import render_help

        print(render_help())
        return
    if not any(a in ("--help", "-h", "--hydra-help", "--info", "-i", "--cfg", "-c") for a in sys.argv[1:]):
        try:
            check_overrides(sys.argv[1:])
        except MedqError as exc:
            print(f"medq: error: {exc}", file=sys.stderr)
            sys.exit(2)
    _hydra_main()
    jobs = recorded_jobs()
    if jobs:  # a sweep ran in this process
        print(summary_table(jobs))
        if any(j.status == "failed" for j in jobs):
            sys.exit(1)
