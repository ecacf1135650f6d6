"""`+recipe=evaluate_model`: any model folder (merged, base + adapter, an adapter alone) and `evaluate.cmmlu.dir`.

All on real artifacts of the session fixtures: the tiny Qwen3 base, its SFT adapter, and here the merge of the two;
small CMMLU CSVs (two subjects) written here in the release layout (dev/, test/) and as a flat folder.
"""

from __future__ import annotations

import json

import pytest

from medq.config import validate_pipeline_config
from medq.errors import ConfigError
from medq.evaluate import EvaluateStage
from medq.evaluate.cmmlu import CmmluEval
from medq.evaluate.model_folder import ModelFolder

from ..conftest import mlflow_runs, run_medq
from ..test_config import composed
from tests.fixtures.training import context
from .test_cmmlu_lm_eval import ANATOMY_TEST, VIROLOGY_DEV, VIROLOGY_TEST, write_csv, write_release


@pytest.fixture(scope="module")
def cmmlu_release(tmp_path_factory):
    return write_release(tmp_path_factory.mktemp("cmmlu_release"))


@pytest.fixture(scope="module")
def merged(tmp_path_factory, base, sft_adapter):
    """The SFT adapter merged into the tiny base by the merge stage: a merged model folder as users get one."""
    from medq.train import MergeStage

    out = tmp_path_factory.mktemp("merged") / "out"
    MergeStage(registry={"enabled": False}, device="cpu").run(
        context("merge", out, {"model": base["model"], "adapter": sft_adapter, "template": base["chat_template"]}))
    return out / "model"


def evaluate_folder(out, **kwargs):
    stage = EvaluateStage(device="cpu", dtype="fp32", rouge={"enabled": False},
                          cmmlu={"dir": kwargs.pop("cmmlu_dir"), "num_fewshot": 0}, **kwargs)
    stage.run(context("evaluate", out, {}))
    return [json.loads(line) for line in (out / "cmmlu.jsonl").read_text(encoding="utf-8").splitlines()]


def test_cmmlu_dir_finds_every_subject_in_the_release_layout_and_a_flat_folder(tmp_path, cmmlu_release):
    release = CmmluEval(dir=str(cmmlu_release))
    assert release.chosen_subjects() == ["anatomy", "virology"]
    assert set(release.files()) == {cmmlu_release / split / f"{s}.csv" for split in ("dev", "test")
                                    for s in ("anatomy", "virology")}
    # the release's test/ given directly: a flat folder of test CSVs, few-shot examples from the dev/ beside it
    assert CmmluEval(dir=str(cmmlu_release / "test")).dev_path("virology") == cmmlu_release / "dev" / "virology.csv"
    flat = tmp_path / "flat"
    write_csv(flat / "anatomy_test.csv", ANATOMY_TEST)
    write_csv(flat / "virology_test.csv", VIROLOGY_TEST)
    zero_shot = CmmluEval(dir=str(flat), num_fewshot=0, subjects=["virology"])
    assert zero_shot.files() == [flat / "virology_test.csv"]
    with pytest.raises(ConfigError, match=r"num_fewshot = 5 needs few-shot examples but .*dev/anatomy.csv does not "
                                          r"exist: .* set evaluate.cmmlu.num_fewshot=0"):
        CmmluEval(dir=str(flat))


def test_evaluate_model_is_checked_before_any_work(workdir, cmmlu_release, base):
    with pytest.raises(ConfigError, match="'evaluate.model' must be set"):
        validate_pipeline_config(composed("+recipe=evaluate_model"))
    with pytest.raises(ConfigError, match=r"'evaluate.model' = '/no/such/model': no such model folder"):
        validate_pipeline_config(composed("+recipe=evaluate_model", "evaluate.model=/no/such/model"))
    model = f"evaluate.model={base['model']}"
    with pytest.raises(ConfigError, match=r"'evaluate.cmmlu.dir' = '/no/cmmlu': no such folder"):
        validate_pipeline_config(composed("+recipe=evaluate_model", model, "evaluate.cmmlu.dir=/no/cmmlu"))
    with pytest.raises(ConfigError, match=r"evaluate.cmmlu.subjects: 'genetics' has no test CSV: "
                                          rf"{cmmlu_release}/test/genetics.csv does not exist"):
        validate_pipeline_config(composed("+recipe=evaluate_model", model, f"evaluate.cmmlu.dir={cmmlu_release}",
                                          "evaluate.cmmlu.subjects=[anatomy,genetics]"))
    container = validate_pipeline_config(composed("+recipe=evaluate_model", model,
                                                  f"evaluate.cmmlu.dir={cmmlu_release}"))
    assert container["stages"] == ["evaluate"] and container["evaluate"]["inputs"] is None


def test_an_adapter_folder_needs_a_local_base(tmp_path, base, sft_adapter):
    assert ModelFolder.resolve(str(sft_adapter)) == ModelFolder(base["model"], sft_adapter), \
        "the adapter's own adapter_config.json names the local base"
    foreign = tmp_path / "adapter"
    foreign.mkdir()
    (foreign / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "Qwen/Qwen3-8B"}))
    with pytest.raises(ConfigError, match=r"base 'Qwen/Qwen3-8B' .* is not a local folder: set evaluate.base_model="):
        ModelFolder.resolve(str(foreign))
    assert ModelFolder.resolve(str(foreign), base_model=str(base["model"])).base == base["model"]
    with pytest.raises(ConfigError, match="evaluate.adapter = .*: not a PEFT adapter folder"):
        EvaluateStage(model=str(base["model"]), adapter=str(tmp_path))


def test_base_plus_adapter_scores_as_its_merged_folder(tmp_path, base, sft_adapter, merged, cmmlu_release):
    """Three forms of the same weights give the same CMMLU log-likelihoods; the bare base does not."""
    folder = evaluate_folder(tmp_path / "merged", model=str(merged), cmmlu_dir=str(cmmlu_release))
    with_adapter = evaluate_folder(tmp_path / "adapter", model=str(base["model"]), adapter=str(sft_adapter),
                                   cmmlu_dir=str(cmmlu_release))
    adapter_alone = evaluate_folder(tmp_path / "alone", model=str(sft_adapter), cmmlu_dir=str(cmmlu_release))
    bare = evaluate_folder(tmp_path / "bare", model=str(base["model"]), cmmlu_dir=str(cmmlu_release))
    assert len(folder) == len(ANATOMY_TEST) + len(VIROLOGY_TEST)
    for other in (with_adapter, adapter_alone):
        assert [(r["subject"], r["doc_id"], r["choice"]) for r in other] == \
            [(r["subject"], r["doc_id"], r["choice"]) for r in folder]
        for a, b in zip(other, folder):
            assert [a["loglik"][l] for l in "ABCD"] == pytest.approx([b["loglik"][l] for l in "ABCD"], abs=1e-4)
    assert any(abs(a["loglik"]["A"] - b["loglik"]["A"]) > 1e-3 for a, b in zip(bare, folder)), \
        "the adapter changed nothing: the comparison above would prove nothing"


@pytest.mark.slow  # the CLI in a subprocess: Hydra, MLflow, lm-eval, the model
def test_evaluate_model_recipe_on_a_merged_folder_logs_per_subject_accuracy(workdir, merged, prepared, cmmlu_release):
    result = run_medq(["+recipe=evaluate_model", f"evaluate.model={merged}", "evaluate.dtype=fp32",
                       "evaluate.device=cpu", f"evaluate.cmmlu.dir={cmmlu_release}", "evaluate.cmmlu.num_fewshot=2",
                       f"evaluate.test={prepared['test']}", "evaluate.rouge.max_examples=3",
                       "evaluate.rouge.max_new_tokens=12"], workdir, {"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    [out] = [p.parent for p in workdir.glob("artifacts/evaluate/*/manifest.json")]
    rows = [json.loads(line) for line in (out / "cmmlu.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["subject"] for r in rows} == {"anatomy", "virology"} and len(rows) == 10
    first = next(r for r in rows if r["subject"] == "virology" and r["doc_id"] == 0)
    # the full lm-eval prompt: description, the two dev examples with answers, the question; then the verdict
    assert first["prompt"].startswith("以下是关于病毒学的单项选择题") and VIROLOGY_DEV[1][0] in first["prompt"]
    question = "{}\nA. {}\nB. {}\nC. {}\nD. {}\n答案：".format(*VIROLOGY_TEST[0][:5])
    assert VIROLOGY_DEV[2][0] not in first["prompt"] and first["prompt"].endswith(question)
    assert first["answer"] == "A" and first["choice"] in "ABCD" and first["correct"] == (first["choice"] == "A")
    assert len((out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()) == 3
    assert (out / "cmmlu_accuracy.png").read_bytes()[:4] == b"\x89PNG"

    client, runs = mlflow_runs(workdir, "evaluate_model")
    [stage] = [r for r in runs if r.data.tags.get("stage") == "evaluate"]
    [parent] = [r for r in runs if r.info.run_id == stage.data.tags["mlflow.parentRunId"]]
    metrics = stage.data.metrics
    for subject in ("anatomy", "virology"):
        mine = [r["correct"] for r in rows if r["subject"] == subject]
        assert metrics[f"cmmlu.{subject}.acc"] == pytest.approx(sum(mine) / len(mine))
        assert parent.data.metrics[f"evaluate.cmmlu.{subject}.acc"] == metrics[f"cmmlu.{subject}.acc"]
    # lm-eval's group score is weighted by subject size (6 and 4 questions), not the mean of the two
    weighted = (6 * metrics["cmmlu.anatomy.acc"] + 4 * metrics["cmmlu.virology.acc"]) / 10
    assert metrics["cmmlu.acc"] == pytest.approx(weighted)
    assert "rougeL_f" in metrics
    assert stage.data.tags["evaluate.model_form"] == "model"
    assert stage.data.tags["evaluate.model_folder"] == str(merged)
    assert stage.data.tags["evaluate.chat_template"] == "qwen3", "a merged folder carries medq's chat_template.json"
    assert "cmmlu_accuracy.png" in [a.path for a in client.list_artifacts(stage.info.run_id)]
