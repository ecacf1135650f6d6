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

The CSVs are found in `dir` (the release's test/ and dev/, or a flat folder of test CSVs), every subject unless
`subjects` picks some; `validate()` checks them when the config is validated, so a missing file is named before
any model is loaded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from medq.errors import ConfigError
from medq.evaluate import lm_eval_tasks
from medq.evaluate.metrics import LETTERS, read_cmmlu_csv, subject_of
from medq.paths import ExistingDir

log = logging.getLogger(__name__)
GROUP = "cmmlu"


@dataclass
class CmmluEval:
    # lm_eval_harness: lm-evaluation-harness's cmmlu_* tasks (comparable with published numbers);
    # chat_template_zero_shot: the question as a chat turn in the pinned template, no examples.
    protocol: Literal["lm_eval_harness", "chat_template_zero_shot"] = "lm_eval_harness"
    # The CMMLU release folder (dev/ and test/, one CSV per subject), or a flat folder of test CSVs (few-shot
    # examples then come from a dev/ folder beside it, if there is one). null: no CMMLU.
    dir: ExistingDir | None = None
    subjects: list[str] = field(default_factory=list)   # e.g. [anatomy, virology]; []: every subject found in dir
    num_fewshot: int = 5                                # CMMLU's published setting
    max_questions_per_subject: int | None = None        # lm-eval's --limit
    batch_size: int = 8

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Cross-field checks; medq/config.py runs them when the config is validated, before any stage starts."""
        if self.num_fewshot < 0:
            raise ConfigError(f"evaluate.cmmlu.num_fewshot must be >= 0, got {self.num_fewshot}")
        if not self.dir:
            if self.subjects:
                raise ConfigError("evaluate.cmmlu.dir is missing: the folder holding the CMMLU CSVs (the release's "
                                  "dev/ and test/, or a flat folder of <subject>.csv test files).")
            return
        tests, devs = self.test_files(), self.dev_files()
        if not tests:
            raise ConfigError(f"evaluate.cmmlu.dir = {self.dir}: no CMMLU CSV found (expected test/<subject>.csv "
                              f"and dev/<subject>.csv, or <subject>.csv).")
        for subject in self.subjects:
            if subject not in tests:
                raise ConfigError(f"evaluate.cmmlu.subjects: '{subject}' has no test CSV: "
                                  f"{self.test_dir() / (subject + '.csv')} does not exist "
                                  f"(found: {', '.join(sorted(tests))}).")
        if self.protocol == "lm_eval_harness":
            known = lm_eval_tasks.subjects(GROUP)
            for subject in self.chosen_subjects():
                if known and subject not in known:
                    raise ConfigError(f"evaluate.cmmlu: '{subject}' ({tests[subject]}) is not a CMMLU subject of "
                                      f"lm-eval (e.g. {', '.join(sorted(known)[:3])}); name the file after one or "
                                      f"use protocol=chat_template_zero_shot.")
            if self.num_fewshot:
                missing = [s for s in self.chosen_subjects() if s not in devs]
                if missing:
                    where = self.dev_dir() or self.test_dir().parent / "dev"
                    raise ConfigError(f"evaluate.cmmlu.num_fewshot = {self.num_fewshot} needs few-shot examples but "
                                      f"{where / (missing[0] + '.csv')} does not exist: add the release's dev/ "
                                      f"folder or set evaluate.cmmlu.num_fewshot=0.")

    # -- where the CSVs are ----------------------------------------------------------------------------------

    def test_dir(self) -> Path:
        root = Path(str(self.dir)).expanduser()
        return root / "test" if (root / "test").is_dir() else root

    def dev_dir(self) -> Path | None:
        """The release's dev/, or for a flat folder of test CSVs a dev/ folder beside it (never the folder itself)."""
        root = Path(str(self.dir)).expanduser()
        test_dir = self.test_dir()
        for candidate in (root / "dev", test_dir.parent / "dev"):
            if candidate.is_dir() and candidate.resolve() != test_dir.resolve():
                return candidate
        return None

    def test_files(self) -> dict[str, Path]:
        """{subject: CSV}: every `<subject>.csv` (or `<subject>_test.csv`, `_dev`, `_val`) in the test folder."""
        return _csvs_by_subject(self.test_dir())

    def dev_files(self) -> dict[str, Path]:
        dev = self.dev_dir()
        return _csvs_by_subject(dev) if dev is not None else {}

    def chosen_subjects(self) -> list[str]:
        return list(self.subjects) if self.subjects else sorted(self.test_files()) if self.dir else []

    def test_path(self, subject: str) -> Path:
        return self.test_files()[subject]

    def dev_path(self, subject: str) -> Path:
        return self.dev_files()[subject]

    def files(self) -> list[Path]:
        subjects = self.chosen_subjects()
        paths = [self.test_path(s) for s in subjects]
        if self.protocol == "lm_eval_harness" and self.num_fewshot:
            paths += [self.dev_path(s) for s in subjects]
        return list(dict.fromkeys(paths))


def _csvs_by_subject(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.csv")):
        found.setdefault(subject_of(path), path)
    return found


def lm_eval_group(config: CmmluEval) -> Any:
    """lm-eval's `cmmlu` group restricted to the configured subjects, each task reading local CSVs."""
    def data_files(subject: str) -> dict[str, Path]:
        # lm-eval loads the few-shot split even for 0 shots; then the test file stands in (no row of it is shown)
        dev = config.dev_path(subject) if config.num_fewshot else config.test_path(subject)
        return {"test": config.test_path(subject), "dev": dev}

    return lm_eval_tasks.local_group(GROUP, config.chosen_subjects(), data_files, "evaluate.cmmlu.subjects")


def check_files(config: CmmluEval) -> None:
    """Validate every CSV up front with medq's reader: a bad file fails with its name and line, not deep in lm-eval."""
    for path in config.files():
        read_cmmlu_csv(path)


def run_lm_eval_harness(model: Any, tokenizer: Any, config: CmmluEval, device: str,
                        ) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Scores and one row per question (its prompt, choice by `acc` and by `acc_norm`, the option log-likelihoods).

    Metric names: `cmmlu.acc` / `cmmlu.acc_norm` (lm-eval's size-weighted group mean), `cmmlu.<subject>.acc`,
    `cmmlu.<subject>.acc_norm`, `cmmlu.<subject>.questions`, `cmmlu.questions`.
    """
    from lm_eval.models.huggingface import HFLM

    check_files(config)
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=config.batch_size, device=device)
    results = lm_eval_tasks.evaluate(lm, lm_eval_group(config), num_fewshot=config.num_fewshot,
                                     limit=config.max_questions_per_subject)
    metrics: dict[str, float] = {}
    for name, values in results["results"].items():
        label = GROUP if name == GROUP else f"{GROUP}.{subject_of_task(name)}"
        for metric in ("acc", "acc_norm"):
            if f"{metric},none" in values:
                metrics[f"{label}.{metric}"] = float(values[f"{metric},none"])
    rows: list[dict[str, Any]] = []
    for name, samples in results["samples"].items():
        subject = subject_of_task(name)
        metrics[f"{GROUP}.{subject}.questions"] = float(len(samples))
        for sample in sorted(samples, key=lambda s: s["doc_id"]):
            rows.append(sample_row(subject, config.test_path(subject), sample))
    metrics[f"{GROUP}.questions"] = float(len(rows))
    return metrics, rows


def subject_of_task(name: str) -> str:
    """'cmmlu::cmmlu_anatomy' or 'cmmlu_anatomy' -> 'anatomy'."""
    return name.removeprefix(f"{GROUP}::").removeprefix(f"{GROUP}_")


def sample_row(subject: str, path: Path, sample: dict[str, Any]) -> dict[str, Any]:
    """One question as lm-eval scored it: acc picks the highest log-likelihood, acc_norm divides by byte length."""
    logliks = [float(resp[0]) for resp in sample["filtered_resps"]]
    doc = sample["doc"]
    choices = list(LETTERS)
    # lm-eval's acc_norm normalises by the continuation's length in bytes; every option here is one letter
    lengths = [len(c.encode("utf-8")) for c in choices]
    choice = choices[max(range(len(logliks)), key=logliks.__getitem__)]
    choice_norm = choices[max(range(len(logliks)), key=lambda i: logliks[i] / lengths[i])]
    # every option is scored after the same context: lm-eval's full prompt (description, few-shot examples, question)
    prompt = sample["arguments"][0][0]
    return {"subject": subject, "file": path.name, "doc_id": sample["doc_id"], "question": doc["Question"],
            "prompt": prompt, "answer": doc["Answer"], "choice": choice, "correct": choice == doc["Answer"],
            "choice_norm": choice_norm, "acc": float(sample["acc"]), "acc_norm": float(sample["acc_norm"]),
            "loglik": dict(zip(choices, logliks))}


def plot_subject_accuracy(accuracy: dict[str, float], average: float, path: Path, title: str) -> Path:
    """A bar per subject and the size-weighted average as a line: the per-subject picture the scores hide."""
    import matplotlib

    matplotlib.use("Agg")  # no display on training servers
    import matplotlib.pyplot as plt

    subjects = sorted(accuracy)
    figure, axes = plt.subplots(figsize=(max(4.0, 0.45 * len(subjects) + 2), 4))
    axes.bar(range(len(subjects)), [accuracy[s] for s in subjects], color="#4c72b0")
    axes.axhline(average, color="#c44e52", linestyle="--", label=f"weighted average {average:.3f}")
    axes.axhline(0.25, color="grey", linestyle=":", label="chance 0.25")
    axes.set_xticks(range(len(subjects)), subjects, rotation=60, ha="right", fontsize=8)
    axes.set_ylim(0, 1)
    axes.set_ylabel("accuracy")
    axes.set_title(title)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
