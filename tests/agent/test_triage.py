"""The triage stage and tool on the project's own synthetic dialogue data (medq.prepare.synthetic), no shared data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medq.agent.tools.triage import DepartmentTriage
from medq.agent.triage import MODEL_FILE, TriageStage
from medq.errors import InputDataError, MedqError
from medq.prepare.synthetic import generate_questions
from medq.stage import StageContext
from medq.tracking import StageTracker
from tests.conftest import REPO, mlflow_runs, run_medq


def write_split(path: Path, n: int, seed: int, with_department: bool = True) -> Path:
    """Records shaped like prepare's splits: ChatML messages + metadata.department."""
    with open(path, "w", encoding="utf-8") as handle:
        for qa in generate_questions(n, seed=seed):
            metadata = {"department": qa.department} if with_department else {}
            record = {"id": f"s{seed}-{qa.question_id}", "metadata": metadata, "messages": [
                {"role": "user", "content": f"{qa.title}\n{qa.ask}"}, {"role": "assistant", "content": qa.answers[0]}]}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def run_stage(tmp_path: Path, stage: TriageStage, train: Path, test: Path) -> tuple[dict, StageContext]:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    ctx = StageContext(stage="triage", output_dir=out, inputs={"train": train, "test": test},
                       tracker=StageTracker(None, None), seed=0)
    return stage.run(ctx), ctx


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("triage")
    train = write_split(tmp / "train.jsonl", 500, seed=1)
    test = write_split(tmp / "test.jsonl", 150, seed=2)
    artifacts, ctx = run_stage(tmp, TriageStage(max_features=20000), train, test)
    return artifacts, ctx


def test_stage_beats_the_majority_class_and_reports_it(trained):
    artifacts, ctx = trained
    assert artifacts == {"model": MODEL_FILE, "metrics": "triage_metrics.json"}
    report = json.loads((ctx.output_dir / "triage_metrics.json").read_text(encoding="utf-8"))
    metrics = ctx.tracker.metrics
    assert metrics == pytest.approx(report["metrics"], abs=1e-6)
    assert metrics["test_records"] == 150 and metrics["departments"] >= 8
    # the baseline always predicts the commonest training department
    assert report["majority_class"] == max(report["train_class_counts"], key=report["train_class_counts"].get)
    assert metrics["baseline.accuracy"] < 0.5
    assert metrics["accuracy"] > metrics["baseline.accuracy"] + 0.2
    assert metrics["macro_f1"] > metrics["baseline.macro_f1"] + 0.3
    assert 0 <= metrics["macro_f1"] <= 1 and 0 <= metrics["accuracy"] <= 1


def test_tool_predicts_departments_with_probabilities(trained):
    _, ctx = trained
    triage = DepartmentTriage(ctx.output_dir / MODEL_FILE, top_k=3)
    texts = [(f"{qa.title}\n{qa.ask}", qa.department) for qa in generate_questions(60, seed=3)]
    predictions = [triage.predict(text) for text, _ in texts]
    assert sum(p.department == gold for p, (_, gold) in zip(predictions, texts)) / len(texts) > 0.5
    for p in predictions:
        probs = [prob for _, prob in p.candidates]
        assert len(p.candidates) == 3 and probs == sorted(probs, reverse=True)
        assert p.candidates[0] == (p.department, p.probability) and 0 < p.probability <= 1
        assert set(d for d, _ in p.candidates) <= set(triage.departments)
    tool = triage.as_tool()
    assert tool.name == "department_triage" and tool.parameters["required"] == ["symptoms"]
    result = tool.invoke(symptoms=texts[0][0])
    assert result["department"] == predictions[0].department
    with pytest.raises(MedqError, match="empty"):
        triage.predict("   ")


def test_bad_inputs_are_named(tmp_path):
    unlabelled = write_split(tmp_path / "test.jsonl", 20, seed=2, with_department=False)
    train = write_split(tmp_path / "train.jsonl", 50, seed=1)
    with pytest.raises(InputDataError, match=r"test.jsonl: no record has metadata.department"):
        run_stage(tmp_path, TriageStage(), train, unlabelled)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": 1, "messages": []}\n', encoding="utf-8")
    with pytest.raises(InputDataError, match=r"broken.jsonl: line 1"):
        run_stage(tmp_path, TriageStage(), broken, unlabelled)
    with pytest.raises(MedqError, match="triage.ngram_range"):
        TriageStage(ngram_range=[3, 1])
    with pytest.raises(MedqError, match="not found"):
        DepartmentTriage(tmp_path / "missing.skops")
    (tmp_path / "garbage.skops").write_bytes(b"not a zip")
    with pytest.raises(MedqError, match="cannot load"):
        DepartmentTriage(tmp_path / "garbage.skops")


@pytest.mark.slow
def test_triage_recipe_end_to_end_logs_to_mlflow(workdir):
    """prepare on a GBK dialogue CSV the project generates, then triage, through the CLI; metrics land in MLflow."""
    from medq.prepare.synthetic import write_dialogue_csv

    csv = write_dialogue_csv(workdir / "dialogue.csv", n_questions=300, seed=4)
    result = run_medq(["+recipe=triage_dialogue", f"prepare.source.path={csv}", "triage.max_features=20000"],
                      cwd=workdir, timeout=600, env={"PYTHONPATH": str(REPO)})  # this checkout's medq
    assert result.returncode == 0, result.stderr[-3000:]
    client, runs = mlflow_runs(workdir, "triage_dialogue")
    [stage_run] = [r for r in runs if r.info.run_name == "triage"]
    metrics = stage_run.data.metrics
    assert metrics["macro_f1"] > metrics["baseline.macro_f1"] and metrics["accuracy"] > metrics["baseline.accuracy"]
    assert any(a.path.endswith(MODEL_FILE) for a in client.list_artifacts(stage_run.info.run_id))
