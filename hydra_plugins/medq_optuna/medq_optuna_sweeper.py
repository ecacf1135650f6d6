"""`hydra/sweeper=medq_optuna`: an Optuna sweeper with a persistent study (e.g. SQLite beside the MLflow store).

    python -m medq -m +recipe=NAME hydra/sweeper=medq_optuna objective=evaluate.rouge_l \
        hydra.sweeper.n_trials=20 'sft.learning_rate=tag(log, interval(1e-5, 1e-3))' peft.r=choice(8,16,32)

Search spaces use Hydra's sweep syntax: choice(...) and range(...) are categorical / integer, interval(a, b)
is a float (int if both ends are ints), tag(log, interval(...)) is log-scaled. Rerunning with the same storage
and study name continues the study. Each trial is one pipeline run and one MLflow parent run; the value
optimised is the pipeline's `objective` metric. (The published hydra-optuna-sweeper pins optuna<3, whose
storage does not work with SQLAlchemy 2.) Hydra only accepts plugins from the
`hydra_plugins` namespace; medq.cli also registers it explicitly, since editable installs hide it from Hydra's scan.
"""

# No `from __future__ import annotations`: Hydra imports plugins while scanning in a way that leaves the module
# out of sys.modules, and dataclasses then cannot resolve string annotations.
import logging
from dataclasses import dataclass, field
from typing import Any, Optional

import optuna
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import IntervalSweep, Override, RangeSweep, Transformer
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig

log = logging.getLogger(__name__)


@dataclass
class MedqOptunaSweeperConf:
    _target_: str = "hydra_plugins.medq_optuna.medq_optuna_sweeper.MedqOptunaSweeper"
    direction: str = "maximize"
    n_trials: int = 10
    storage: Optional[str] = "sqlite:///mlruns/optuna.db"
    study_name: Optional[str] = None
    seed: Optional[int] = 0
    params: dict[str, str] = field(default_factory=dict)


ConfigStore.instance().store(group="hydra/sweeper", name="medq_optuna", node=MedqOptunaSweeperConf, provider="medq")


def distribution_of(override: Override) -> optuna.distributions.BaseDistribution | None:
    """The Optuna distribution a sweep override describes, or None for a fixed value."""
    if not override.is_sweep_override():
        return None
    value = override.value()
    if override.is_choice_sweep() or (override.is_range_sweep() and value.shuffle):
        return optuna.distributions.CategoricalDistribution(list(override.sweep_iterator(transformer=Transformer.encode)))
    if override.is_range_sweep():
        assert isinstance(value, RangeSweep)
        if any(isinstance(v, float) for v in (value.start, value.stop, value.step)):
            return optuna.distributions.FloatDistribution(value.start, value.stop - value.step, step=value.step)
        return optuna.distributions.IntDistribution(int(value.start), int(value.stop) - int(value.step), step=int(value.step))
    if override.is_interval_sweep():
        assert isinstance(value, IntervalSweep)
        log_scale = "log" in value.tags
        if isinstance(value.start, int) and isinstance(value.end, int):
            return optuna.distributions.IntDistribution(value.start, value.end, log=log_scale)
        return optuna.distributions.FloatDistribution(value.start, value.end, log=log_scale)
    raise ValueError(f"unsupported sweep for Optuna: {override.input_line}")


class MedqOptunaSweeper(Sweeper):
    def __init__(self, direction: str, n_trials: int, storage: Optional[str], study_name: Optional[str],
                 seed: Optional[int], params: dict[str, str]):
        self.direction, self.n_trials, self.storage = direction, n_trials, storage
        self.study_name, self.seed, self.params = study_name, seed, dict(params or {})
        self.launcher = None
        self.job_idx = 0

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(config=config, hydra_context=hydra_context,
                                                                task_function=task_function)
        if self.study_name is None:
            self.study_name = str(config.get("name", "medq"))

    def sweep(self, arguments: list[str]) -> Any:
        lines = [f"{k}={v}" for k, v in self.params.items()] + list(arguments)
        space: dict[str, optuna.distributions.BaseDistribution] = {}
        fixed: list[str] = []
        for override in OverridesParser.create().parse_overrides(lines):
            distribution = distribution_of(override)
            if distribution is None:
                fixed.append(override.input_line)
            else:
                space[override.get_key_element()] = distribution
        if self.storage and self.storage.startswith("sqlite:///"):
            from pathlib import Path

            Path(self.storage.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        study = optuna.create_study(study_name=self.study_name, storage=self.storage, direction=self.direction,
                                    sampler=optuna.samplers.TPESampler(seed=self.seed), load_if_exists=True)
        log.info("Optuna study '%s' (%s): %d trials over %s", self.study_name, self.storage, self.n_trials, list(space))
        for _ in range(self.n_trials):
            trial = study.ask(space)
            overrides = tuple(fixed + [f"{name}={value}" for name, value in trial.params.items()])
            [result] = self.launcher.launch([overrides], initial_job_idx=self.job_idx)
            self.job_idx += 1
            try:
                value = float(result.return_value)
            except Exception as exc:  # a failed job (or no objective): the trial is FAILED, the study goes on
                trial.set_user_attr("medq_error", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                log.warning("trial %d failed: %s", trial.number, exc)
                continue
            study.tell(trial, value)
        completed = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if completed:
            log.info("best %s = %s with %s", self.direction, study.best_value, study.best_params)
        return study
