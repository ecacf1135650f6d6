"""The one builder of lm-eval's multiple-choice groups on local CSVs (medq/evaluate/lm_eval_tasks.py), as both of
its users build them: the comparison's C-Eval and CMMLU suites on the shipped demo files, and the evaluate stage's
CMMLU. No model: the groups are built (lm-eval's task files, the `datasets` csv builder) and their rows read."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from medq.errors import ConfigError
from medq.evaluate.cmmlu import CmmluEval, lm_eval_group
from medq.evaluate.suites import MultipleChoiceSuite

DEMO = Path(__file__).resolve().parents[2] / "medq" / "evaluate" / "demo_suites"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def tasks_of(group) -> dict:
    return {task.config.task: task for task in group.get_all_tasks()}


def test_comparison_ceval_suite_reads_the_local_val_and_dev_files(tmp_path):
    suite = MultipleChoiceSuite(family="ceval-valid", dir=str(DEMO / "ceval"),
                                subjects=["basic_medicine", "clinical_medicine"], num_fewshot=1)
    group = suite.group(tmp_path)
    tasks = tasks_of(group)
    assert sorted(tasks) == ["ceval-valid_basic_medicine", "ceval-valid_clinical_medicine"]
    task = tasks["ceval-valid_basic_medicine"]
    assert task.config.dataset_path == "csv" and "val" in task.config.dataset_kwargs["data_files"]
    expected = rows(DEMO / "ceval" / "val" / "basic_medicine_val.csv")
    assert [d["question"] for d in task.validation_docs()] == [r["question"] for r in expected]
    assert group.aggregate_metric_list, "lm-eval's size-weighted group mean comes along"


def test_evaluate_stage_cmmlu_group_is_built_the_same_way():
    config = CmmluEval(dir=str(DEMO / "cmmlu"), subjects=["anatomy"], num_fewshot=0)
    tasks = tasks_of(lm_eval_group(config))
    assert list(tasks) == ["cmmlu_anatomy"]
    files = tasks["cmmlu_anatomy"].config.dataset_kwargs["data_files"]
    assert files["test"] == files["dev"] == str(DEMO / "cmmlu" / "test" / "anatomy.csv"), \
        "zero shots: the test file stands in for the few-shot split lm-eval loads anyway"
    assert len(list(tasks["cmmlu_anatomy"].test_docs())) == len(rows(DEMO / "cmmlu" / "test" / "anatomy.csv"))


def test_a_subject_lm_eval_has_no_task_for_names_the_key(tmp_path):
    folder = tmp_path / "ceval"
    for split in ("val", "dev"):
        (folder / split).mkdir(parents=True)
        (folder / split / f"astrology_{split}.csv").write_text("id,question,A,B,C,D,answer\n0,问,甲,乙,丙,丁,A\n",
                                                               encoding="utf-8")
    suite = MultipleChoiceSuite(family="ceval-valid", dir=str(folder), subjects=["astrology"], num_fewshot=1)
    with pytest.raises(ConfigError, match=r"compare\.suites\.ceval\.subjects: 'astrology' is not a ceval-valid "
                                          r"subject of lm-eval .*without the 'ceval-valid_' prefix"):
        suite.group(tmp_path / "work", "compare.suites.ceval")
