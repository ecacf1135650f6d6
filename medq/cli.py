"""`python -m medq +recipe=NAME key=value ...`: compose with Hydra, validate, freeze, run the stages."""

from __future__ import annotations

import difflib
import logging
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

import medq
from medq.config import (ROOT_KEYS, config_dirs, config_groups, recipe_names, register_recipes, unknown_key_error,
                         validate_pipeline_config)
from medq.errors import ConfigError, MedqError
from medq.jobs import JobFailure, record_job, recorded_jobs, summary_table
from medq.logs import quiet_console
from medq.runner import Pipeline
from medq.wiring import check_wiring

log = logging.getLogger("medq")
CONF_DIR, _ = config_dirs()
UI_COMMANDS: set[str] = set()  # the MLflow stores a sweep's jobs logged to


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
    quiet_console()  # library DEBUG lines and warnings: run log only
    try:
        container = validate_run_config(cfg)
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
    if tracker.enabled:
        if in_sweep:  # printed once, after the sweep's summary table
            UI_COMMANDS.add(tracker.ui_command())
        else:
            print(f"compare runs: {tracker.ui_command()}")
    if objective is not None:
        print(f"objective {container['objective']} = {objective:g}")
    if in_sweep:
        record_job(run_dir, job, overrides, "cached" if all(o.cached for o in outcomes.values()) else "ok",
                   str(run_dir))
    return objective


def validate_run_config(cfg: DictConfig) -> dict:
    """medq's full validation of a composed config: keys, types, outside paths (medq/config.py), how the stages
    are wired (medq/wiring.py) and whether the agent's budgets fit the served model (medq/agent/turn.py). Runs
    before any stage, in a run, with --validate and with --cfg job."""
    from medq.agent.turn import check_context_budget

    container = validate_pipeline_config(cfg)
    check_wiring(container)
    check_context_budget(container)   # the agent's budgets against the served model's context (serve node)
    return container


def _first_job_overrides(args: list[str]) -> list[tuple[Any, str]]:
    """(parsed override, text) for each `key=value` argument; a sweep (`a=1,2`, `range(...)`) by its first value,
    so a `-m` sweep is checked on its first job. Hydra's own keys (hydra.*) do not shape the job's config."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    raw = [a for a in args if "=" in a and not a.startswith("-")]
    parser = OverridesParser.create()
    try:
        overrides = parser.parse_overrides(raw)
    except Exception as exc:
        raise ConfigError(f"cannot parse the overrides: {' '.join(str(exc).split())}") from None
    result = []
    for override, text in zip(overrides, raw):
        if override.key_or_group.startswith("hydra."):
            continue
        if override.is_sweep_override():
            try:
                text = f"{override.get_key_element()}={next(iter(override.sweep_string_iterator()))}"
            except Exception:  # interval(...) has no first value: the job's config keeps the default
                continue
            override = parser.parse_overrides([text])[0]
        result.append((override, text))
    return result


def _group_options(group: str) -> list[str]:
    if group == "recipe":
        return recipe_names()
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def _choices(word: str, valid: list[str], what: str) -> str:
    close = difflib.get_close_matches(word, valid, n=1, cutoff=0.5)
    return (f" Did you mean '{close[0]}'?" if close else "") + f" Valid {what}: {', '.join(valid)}."


def check_group_choices(overrides: list[tuple[Any, str]]) -> None:
    """An unknown group option, recipe or group as one line with the valid choices (Hydra's own message spans many
    lines and points at HYDRA_FULL_ERROR)."""
    groups = [g for g in config_groups() if not g.startswith("hydra")]
    for override, _ in overrides:
        key = override.key_or_group
        if override.is_delete() or key.startswith("hydra"):
            continue
        if key in groups:
            value = override.value()
            if isinstance(value, str) and value not in _group_options(key):
                what = "recipes" if key == "recipe" else f"options for '{key}'"
                kind = "recipe" if key == "recipe" else "option"
                where = "" if key == "recipe" else f" for config group '{key}'"
                raise ConfigError(f"unknown {kind} '{value}'{where}.{_choices(value, _group_options(key), what)}")
        elif "/" in key or ("." not in key and key not in ROOT_KEYS
                            and difflib.get_close_matches(key, groups, n=1, cutoff=0.6)):
            raise ConfigError(f"unknown config group '{key}'.{_choices(key, groups, 'groups')}")


def compose_job_config(args: list[str]) -> DictConfig:
    """Compose what `python -m medq ARGS` runs (its first job for a sweep), every error as one-line ConfigError."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    overrides = _first_job_overrides(args)
    check_group_choices(overrides)
    check_overrides(overrides)
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose("config", overrides=[text for _, text in overrides])
    except Exception as exc:  # anything Hydra refuses: its message without the HYDRA_FULL_ERROR advice, on one line
        lines = [line.strip() for line in str(exc).splitlines() if line.strip() and "HYDRA_FULL_ERROR" not in line]
        raise ConfigError(" ".join(lines) or type(exc).__name__) from None
    finally:
        GlobalHydra.instance().clear()


def check_overrides(overrides: list[tuple[Any, str]]) -> None:
    """Fail before Hydra runs anything when a `key=value` override names a key the composed config lacks."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    groups = set(config_groups())
    structural, values = [], []
    for override, text in overrides:
        key = override.key_or_group
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
        return  # compose_job_config reports composition errors
    finally:
        GlobalHydra.instance().clear()
    for key, _ in values:
        parent_path, _, leaf = key.rpartition(".")
        parent = OmegaConf.select(cfg, parent_path) if parent_path else cfg
        if parent is None:
            raise unknown_key_error("", key, [k for k in cfg.keys()])
        if isinstance(parent, DictConfig) and leaf not in parent.keys():  # `in` is False for a `???` value
            raise unknown_key_error(parent_path, leaf, [k for k in parent.keys() if not str(k).startswith("_")])


def _prints_job_config(args: list[str]) -> bool:
    """`--cfg job` / `-c all` / `--cfg=job`: Hydra prints the config; medq validates it first."""
    for i, arg in enumerate(args):
        if arg in ("--cfg", "-c") and i + 1 < len(args) and args[i + 1] in ("job", "all"):
            return True
        if arg in ("--cfg=job", "--cfg=all"):
            return True
    return False


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
    validate_only = "--validate" in sys.argv[1:]  # medq's flag, not Hydra's: taken out before Hydra parses argv
    sys.argv = [a for a in sys.argv if a != "--validate"]
    args = sys.argv[1:]
    if not any(a in ("--hydra-help", "--info", "-i", "--shell-completion", "-sc") for a in args):
        try:
            cfg = compose_job_config(args)
            if validate_only or _prints_job_config(args):
                container = validate_run_config(cfg)
            if validate_only and not container.get("stages"):
                raise ConfigError("no stages to run: choose a recipe, e.g. `python -m medq +recipe=demo --validate` "
                                  "(`python -m medq --help` lists them).")
        except MedqError as exc:
            print(f"medq: error: {exc}", file=sys.stderr)
            sys.exit(2)
        if validate_only:
            stages = container.get("stages") or []
            print(f"config ok: {len(stages)} stages ({', '.join(stages)})")
            return
    _hydra_main()
    jobs = recorded_jobs()
    if jobs:  # a sweep ran in this process
        print(summary_table(jobs))
        for command in sorted(UI_COMMANDS):
            print(f"compare runs: {command}")
        if any(j.status == "failed" for j in jobs):
            sys.exit(1)
