"""CMMLU scored exactly as lm-evaluation-harness scores its `cmmlu_*` tasks, on local CSVs.

Published CMMLU numbers come from lm-evaluation-harness: its task configs fix the prompt (the subject's
description `以下是关于{科目}的单项选择题，请直接给出正确答案的选项。\n\n`, then `问题\nA. …\nD. …\n答案：`), the
few-shot examples (the first n of the dev split), the target delimiter (" " before the letter), the metrics
(`acc`, `acc_norm`) and the group average (weighted by subject size). Rather than copy any of that, medq loads
lm-eval's own registered `cmmlu_<subject>` tasks and overrides only where the rows come from (local CSVs
through the `datasets` csv builder, since no hub is reachable), then runs lm-eval's evaluator on the model
already in memory. So a number here is the number `lm_eval --tasks cmmlu_<subject>` prints on the same rows.

The chat-template zero-shot variant (`protocol: chat_template_zero_shot`) asks the model as it is served; its
numbers are not comparable with published ones and carry that name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from medq.errors import ConfigError
from medq.evaluate.metrics import LETTERS, read_cmmlu_csv

log = logging.getLogger(__name__)
GROUP = "cmmlu"


@dataclass
class CmmluEval:
    # lm_eval_harness: lm-evaluation-harness's cmmlu_* tasks (comparable with published numbers);
    # chat_template_zero_shot: the question as a chat turn in the pinned template, no examples.
    protocol: Literal["lm_eval_harness", "chat_template_zero_shot"] = "lm_eval_harness"
    subjects: list[str] = field(default_factory=list)   # CMMLU subject names, e.g. [anatomy, clinical_knowledge]
    data_dir: str | None = None                         # the CMMLU release folder (holds dev/ and test/)
    test_file: str = "test/{subject}.csv"               # relative to data_dir; the questions scored
    dev_file: str = "dev/{subject}.csv"                 # relative to data_dir; few-shot examples (lm_eval_harness)
    num_fewshot: int = 5                                # CMMLU's published setting
    max_questions_per_subject: int | None = None        # lm-eval's --limit
    batch_size: int = 8

    def __post_init__(self) -> None:
        if self.subjects and not self.data_dir:
            raise ConfigError("evaluate.cmmlu.data_dir is missing: the folder holding the CMMLU CSVs "
                              "(with evaluate.cmmlu.test_file / dev_file naming each subject's file).")
        if self.num_fewshot < 0:
            raise ConfigError(f"evaluate.cmmlu.num_fewshot must be >= 0, got {self.num_fewshot}")

    def test_path(self, subject: str) -> Path:
        return Path(self.data_dir or ".") / self.test_file.format(subject=subject)

    def dev_path(self, subject: str) -> Path:
        return Path(self.data_dir or ".") / self.dev_file.format(subject=subject)

    def files(self) -> list[Path]:
        paths = [self.test_path(s) for s in self.subjects]
        if self.protocol == "lm_eval_harness" and self.num_fewshot:
            paths += [self.dev_path(s) for s in self.subjects]
        return list(dict.fromkeys(paths))


def lm_eval_task_dir() -> Path:
    import lm_eval.tasks

    return Path(lm_eval.tasks.__file__).parent / GROUP


def lm_eval_group(config: CmmluEval) -> Any:
    """lm-eval's `cmmlu` group restricted to the configured subjects, each task reading local CSVs.

    Each task is lm-eval's own `cmmlu_<subject>.yaml` (its includes resolved by lm-eval's loader) with only the
    dataset keys replaced, so prompt, few-shot sampler and metrics are lm-eval's; the group carries lm-eval's
    size-weighted `acc`/`acc_norm` aggregation from its `_cmmlu.yaml`.
    """
    from lm_eval.api.group import Group
    from lm_eval.api.task import ConfigurableTask
    from lm_eval.tasks._yaml_loader import load_yaml

    group_yaml = load_yaml(lm_eval_task_dir() / "_cmmlu.yaml", resolve_func=False)
    known = set(group_yaml["task"])
    group = Group.from_config({"group": GROUP, "task": [f"{GROUP}_{s}" for s in config.subjects],
                               "aggregate_metric_list": group_yaml["aggregate_metric_list"],
                               "metadata": group_yaml.get("metadata")})
    for subject in config.subjects:
        name = f"{GROUP}_{subject}"
        if name not in known:
            raise ConfigError(f"evaluate.cmmlu.subjects: '{subject}' is not a CMMLU subject of lm-eval "
                              f"(e.g. {', '.join(sorted(known)[:3])}, without the 'cmmlu_' prefix)")
        task_config = load_yaml(lm_eval_task_dir() / f"{name}.yaml")
        # lm-eval loads the few-shot split even for 0 shots; then the test file stands in (no row of it is shown)
        dev = config.dev_path(subject) if config.num_fewshot else config.test_path(subject)
        data_files = {"test": str(config.test_path(subject)), "dev": str(dev)}
        task_config.update(dataset_path="csv", dataset_name=None, dataset_kwargs={"data_files": data_files})
        task_config.pop("tag", None)
        group.add(ConfigurableTask(config=task_config))
    return group


def check_files(config: CmmluEval) -> None:
    """Validate every CSV up front with medq's reader: a bad file fails with its name and line, not deep in lm-eval."""
    for path in config.files():
        read_cmmlu_csv(path)


def run_lm_eval_harness(model: Any, tokenizer: Any, config: CmmluEval, device: str,
                        ) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Scores and one row per question (its choice by `acc` and by `acc_norm`, the option log-likelihoods)."""
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    check_files(config)
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=config.batch_size, device=device)
    # the tasks are built here, so lm-eval need not scan its whole task tree (seconds) to find them
    manager = TaskManager(include_defaults=False)
    results = simple_evaluate(model=lm, tasks=[lm_eval_group(config)], num_fewshot=config.num_fewshot,
                              limit=config.max_questions_per_subject, task_manager=manager, log_samples=True,
                              bootstrap_iters=0)
    metrics: dict[str, float] = {}
    for name, values in results["results"].items():
        label = GROUP if name == GROUP else name.removeprefix(f"{GROUP}::")
        for metric in ("acc", "acc_norm"):
            if f"{metric},none" in values:
                metrics[f"{label}_{metric}"] = float(values[f"{metric},none"])
    rows: list[dict[str, Any]] = []
    for name, samples in results["samples"].items():
        subject = name.removeprefix(f"{GROUP}::").removeprefix(f"{GROUP}_")
        metrics[f"{GROUP}_{subject}_questions"] = float(len(samples))
        for sample in sorted(samples, key=lambda s: s["doc_id"]):
            rows.append(sample_row(subject, config.test_path(subject), sample))
    metrics[f"{GROUP}_questions"] = float(len(rows))
    return metrics, rows


def sample_row(subject: str, path: Path, sample: dict[str, Any]) -> dict[str, Any]:
    """One question as lm-eval scored it: acc picks the highest log-likelihood, acc_norm divides by byte length."""
    logliks = [float(resp[0]) for resp in sample["filtered_resps"]]
    doc = sample["doc"]
    choices = list(LETTERS)
    # lm-eval's acc_norm normalises by the continuation's length in bytes; every option here is one letter
    lengths = [len(c.encode("utf-8")) for c in choices]
    choice = choices[max(range(len(logliks)), key=logliks.__getitem__)]
    choice_norm = choices[max(range(len(logliks)), key=lambda i: logliks[i] / lengths[i])]
    return {"subject": subject, "file": path.name, "doc_id": sample["doc_id"], "answer": doc["Answer"],
            "choice": choice, "choice_norm": choice_norm, "acc": float(sample["acc"]),
            "acc_norm": float(sample["acc_norm"]), "loglik": dict(zip(choices, logliks))}
