"""lm-evaluation-harness's own multiple-choice groups (CMMLU, C-Eval) on local CSV files: the one place medq builds
and runs them, for the `evaluate` stage (`cmmlu.py`, the model in memory) and the comparison (`suites.py`, the
served model).

Each task is lm-eval's own `<prefix><subject>.yaml` (its includes resolved by lm-eval's loader) with only the
dataset keys replaced (the `datasets` csv builder on local files, since no hub is reachable), so prompt, few-shot
sampler and metrics are lm-eval's; the group carries lm-eval's size-weighted `acc`/`acc_norm` aggregation from its
group file. The tasks are built here, so lm-eval need not scan its whole task tree (seconds) to find them.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from medq.errors import ConfigError


@dataclass(frozen=True)
class Family:
    group: str        # lm-eval's group name
    folder: str       # its folder under lm_eval/tasks
    group_file: str   # the group's yaml (task list, aggregation)
    prefix: str       # a task's name: prefix + subject


FAMILIES = {"cmmlu": Family("cmmlu", "cmmlu", "_cmmlu.yaml", "cmmlu_"),
            "ceval-valid": Family("ceval-valid", "ceval", "_ceval-valid.yaml", "ceval-valid_")}


def task_folder(family: str) -> Path | None:
    """lm-eval's folder of the family's task files, found without importing lm-eval (that takes seconds)."""
    spec = importlib.util.find_spec("lm_eval")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "tasks" / FAMILIES[family].folder


def subjects(family: str) -> set[str]:
    """The subjects lm-eval ships task files for (empty without lm-eval)."""
    folder, prefix = task_folder(family), FAMILIES[family].prefix
    return {p.stem.removeprefix(prefix) for p in folder.glob(f"{prefix}*.yaml")} if folder else set()


def local_group(family: str, chosen: Sequence[str], data_files: Callable[[str], Mapping[str, Path]], key: str) -> Any:
    """lm-eval's group of `family` restricted to the `chosen` subjects; `data_files(subject)` gives each task's
    `{split: csv}`. A subject lm-eval has no task for is a ConfigError naming `key`."""
    from lm_eval.api.group import Group
    from lm_eval.api.task import ConfigurableTask
    from lm_eval.tasks._yaml_loader import load_yaml

    spec, folder = FAMILIES[family], task_folder(family)
    assert folder is not None, "lm_eval is imported above"
    group_yaml = load_yaml(folder / spec.group_file, resolve_func=False)
    group = Group.from_config({"group": spec.group, "task": [spec.prefix + s for s in chosen],
                               "aggregate_metric_list": group_yaml["aggregate_metric_list"],
                               "metadata": group_yaml.get("metadata")})
    for subject in chosen:
        task_file = folder / f"{spec.prefix}{subject}.yaml"
        if not task_file.is_file():
            known = sorted(subjects(family))
            raise ConfigError(f"{key}: '{subject}' is not a {family} subject of lm-eval (e.g. {', '.join(known[:3])}, "
                              f"without the '{spec.prefix}' prefix; {task_file} does not exist)")
        config = load_yaml(task_file)
        config.update(dataset_path="csv", dataset_name=None,
                      dataset_kwargs={"data_files": {k: str(v) for k, v in data_files(subject).items()}})
        config.pop("tag", None)
        group.add(ConfigurableTask(config=config))
    return group


def evaluate(lm: Any, group: Any, *, num_fewshot: int, limit: int | None,
             apply_chat_template: bool = False) -> dict[str, Any]:
    """lm-eval's evaluator on one group, with every sample logged (no bootstrap: the figures are point estimates)."""
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    return simple_evaluate(model=lm, tasks=[group], num_fewshot=num_fewshot, limit=limit,
                           task_manager=TaskManager(include_defaults=False), log_samples=True, bootstrap_iters=0,
                           apply_chat_template=apply_chat_template)
