"""triage.eval_files: a labelled file from outside the pipeline, scored with per-department F1 and the majority
class of that file; calibrated probabilities and the unsure threshold (the project's own synthetic data)."""

from __future__ import annotations

import csv
import json

import pytest

from medq.agent.tools.triage import DepartmentTriage
from medq.agent.triage import MODEL_FILE, TriageStage
from medq.errors import InputDataError
from medq.prepare.synthetic import generate_questions
from tests.agent.test_triage import run_stage, write_split


def write_outside_csv(path, n, seed, extra_department=None):
    """The dialogue data's layout (department,title,ask,answer) in GBK, as that data is published."""
    rows = [(qa.department, qa.title, qa.ask, qa.answers[0]) for qa in generate_questions(n, seed=seed)]
    if extra_department:
        rows += [(extra_department, "乏力", "最近总是没力气，是怎么回事", "建议检查")] * 3
    with open(path, "w", encoding="gbk", errors="ignore", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["department", "title", "ask", "answer"])
        writer.writerows(rows)
    return rows


def test_outside_file_is_scored_per_department_against_its_own_majority(tmp_path):
    train = write_split(tmp_path / "train.jsonl", 300, seed=1)
    test = write_split(tmp_path / "test.jsonl", 60, seed=2)
    rows = write_outside_csv(tmp_path / "outside.csv", 80, seed=7, extra_department="普通内科")
    stage = TriageStage(max_features=5000, calibration="sigmoid", unsure_threshold=0.5,
                        eval_files=[{"path": str(tmp_path / "outside.csv"), "name": "outside"}])
    _, ctx = run_stage(tmp_path, stage, train, test)
    report = json.loads((ctx.output_dir / "triage_metrics.json").read_text(encoding="utf-8"))
    outside = report["eval_files"]["outside"]
    labels = [r[0] for r in rows]
    majority = max(set(labels), key=labels.count)
    assert outside["majority_class"] == majority
    assert outside["metrics"]["baseline.accuracy"] == pytest.approx(labels.count(majority) / len(labels))
    assert outside["metrics"]["records"] == len(labels)
    assert outside["departments_not_trained"] == ["普通内科"]
    assert set(outside["per_department"]) >= set(labels)            # one F1 per department of that file
    assert 0 < outside["metrics"]["unsure_rate"] < 1                 # the threshold routed some to 普通内科
    assert report["metrics"]["eval.outside.macro_f1"] == outside["metrics"]["macro_f1"]
    # the agent's tool loads the calibrated model (its fitted calibration parts are trusted types)
    prediction = DepartmentTriage(ctx.output_dir / MODEL_FILE).predict("最近总是咳嗽，有痰")
    assert 0 < prediction.probability <= 1


def test_outside_file_without_the_label_column_is_named(tmp_path):
    train = write_split(tmp_path / "train.jsonl", 120, seed=1)
    test = write_split(tmp_path / "test.jsonl", 30, seed=2)
    (tmp_path / "bad.csv").write_text("科室,title,ask\n心血管科,头晕,血压高\n", encoding="utf-8")
    stage = TriageStage(max_features=2000, eval_files=[{"path": str(tmp_path / "bad.csv")}])
    with pytest.raises(InputDataError, match=r"bad\.csv: no column 'department'"):
        run_stage(tmp_path, stage, train, test)
