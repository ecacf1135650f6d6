"""`python -m medq` as users run it: real subprocesses, a real MLflow store, from any working directory."""

import os
import re
import subprocess
import sys

import pytest
import yaml

from .conftest import REPO, mlflow_runs, run_medq

pytestmark = pytest.mark.slow


def test_demo_runs_from_any_directory_and_tracks_everything(workdir):
    result = run_medq(["+recipe=demo", "stages=[prepare]", "prepare.source.n_questions=120"], cwd=workdir)
    assert result.returncode == 0, result.stderr
    [stage_dir] = (workdir / "artifacts" / "prepare").iterdir()
    assert (stage_dir / "train.jsonl").stat().st_size > 0 and (stage_dir / "manifest.json").is_file()
    [run_dir] = (workdir / "outputs" / "runs" / "demo").iterdir()
    frozen = yaml.safe_load((run_dir / "resolved_config.yaml").read_text(encoding="utf-8"))
    assert frozen["prepare"]["source"]["n_questions"] == 120 and "${" not in str(frozen)

    client, runs = mlflow_runs(workdir, "demo")
    [parent] = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    [stage] = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert stage.info.run_name == "prepare" and stage.info.status == "FINISHED"
    tags = parent.data.tags
    assert tags["recipe"] == "demo" and tags["medq_version"] and tags["git_commit"] and tags["sweep_id"] == "none"
    assert parent.data.params["prepare.source.n_questions"] == "120"
    assert parent.data.params["prepare.dedup.threshold"] == "0.8"
    assert parent.data.metrics["prepare.records_in"] == stage.data.metrics["records_in"] > 120
    assert stage.data.metrics["records_in"] == stage.data.metrics["records_out"] + stage.data.metrics["rejected_total"]
    inputs = {i.dataset.name: i for i in client.get_run(stage.info.run_id).inputs.dataset_inputs}
    assert {"train", "validation", "test", "preference_pairs", "corpus"} <= set(inputs)
    assert {t.key: t.value for t in inputs["train"].tags}["mlflow.data.context"] == "train"
    artifacts = {a.path for a in client.list_artifacts(stage.info.run_id)}
    assert {"data_card.json", "data_card.md", "manifest.json"} <= artifacts
    assert "resolved_config.yaml" in {a.path for a in client.list_artifacts(parent.info.run_id)}

    again = run_medq(["+recipe=demo", "stages=[prepare]", "prepare.source.n_questions=120"], cwd=workdir)
    assert again.returncode == 0 and "cached" in again.stdout
    forced = run_medq(["+recipe=demo", "stages=[prepare]", "prepare.source.n_questions=120", "force=true"], cwd=workdir)
    assert forced.returncode == 0 and re.search(r"prepare +done", forced.stdout)


def test_multirun_sweep_gives_one_mlflow_run_per_job_with_the_sweep_id(workdir):
    result = run_medq(["-m", "+recipe=demo", "stages=[prepare]", "prepare.source.n_questions=80", "prepare.limit=30,50",
                       "prepare.dedup.near=true,false"], cwd=workdir)
    assert result.returncode == 0, result.stderr
    _, runs = mlflow_runs(workdir, "demo")
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 4
    assert len({p.data.tags["sweep_id"] for p in parents}) == 1 and parents[0].data.tags["sweep_id"] != "none"
    assert sorted(p.data.tags["sweep_job"] for p in parents) == ["0", "1", "2", "3"]
    combos = sorted((p.data.params["prepare.limit"], p.data.params["prepare.dedup.near"]) for p in parents)
    assert combos == [("30", "False"), ("30", "True"), ("50", "False"), ("50", "True")]
    assert sorted(p.data.metrics["prepare.records_in"] for p in parents) == [30, 30, 50, 50]


def test_typo_in_a_key_fails_before_any_work(workdir):
    result = run_medq(["+recipe=demo", "prepare.limt=5"], cwd=workdir)
    assert result.returncode == 2
    assert "unknown config key 'prepare.limt'. Did you mean 'prepare.limit'?" in result.stderr
    assert not (workdir / "outputs").exists() and not (workdir / "mlruns").exists()


def test_typo_in_a_group_option_lists_the_valid_options(workdir):
    result = run_medq(["+recipe=demo", "prepare/source=cmedqa", "prepare.limit=3"], cwd=workdir)
    assert result.returncode == 2
    assert result.stderr.strip() == ("medq: error: unknown option 'cmedqa' for config group 'prepare/source'. Did you "
                                     "mean 'cmedqa2'? Valid options for 'prepare/source': cmedqa2, csv, dialogue_csv, "
                                     "huatuo_jsonl, jsonl, synthetic.")


def test_help_lists_recipes_and_groups(workdir):
    result = run_medq(["--help"], cwd=workdir)
    assert result.returncode == 0
    from medq.config import recipe_names

    [recipe_line] = [line for line in result.stdout.splitlines() if line.startswith("recipe: ")]
    assert recipe_line == "recipe: " + ", ".join(recipe_names()) and "demo" in recipe_line
    assert "prepare/source: cmedqa2, csv, dialogue_csv, huatuo_jsonl, jsonl, synthetic" in result.stdout


def test_help_lists_every_stage_with_what_it_reads_and_writes_and_each_recipes_stages(workdir):
    result = run_medq(["--help"], cwd=workdir)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    merge = text[text.index("  merge "):].splitlines()
    assert "medq.train.MergeStage" in merge[0]
    assert "adapter <- dpo.adapter" in merge[1] and merge[2].split("writes: ")[1] == "model, parity"
    for stage in ("prepare", "base_model", "sft", "dpo", "merge", "evaluate", "index", "retrieval_eval"):
        assert re.search(rf"^  {stage} +medq\.", text, re.M), f"stage {stage} missing from --help"
    assert re.search(r"^  demo_rag +prepare -> index -> retrieval_eval$", text, re.M)
    assert "learning_rate" not in text, "--help is not a dump of the default config"


def test_pip_installed_package_finds_its_configs_and_recipes(tmp_path):
    target = tmp_path / "site"
    build = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                            "--target", str(target), str(REPO)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    assert (target / "medq" / "conf" / "config.yaml").is_file() and (target / "medq" / "recipes" / "demo.yaml").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("MEDQ_HOME", None)
    result = subprocess.run([sys.executable, "-m", "medq", "+recipe=demo", "stages=[prepare]", "prepare.source.n_questions=30", "tracking=off"],
                            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert str(target) in subprocess.run([sys.executable, "-c", "import medq; print(medq.__file__)"], env=env,
                                         cwd=elsewhere, capture_output=True, text=True).stdout
    assert any((elsewhere / "artifacts" / "prepare").iterdir())


def test_optuna_sweeper_persists_its_study_and_optimises_the_objective(workdir):
    import optuna

    args = ["-m", "+recipe=demo", "stages=[prepare]", "hydra/sweeper=medq_optuna", "objective=prepare.records_out",
            "prepare.source.n_questions=60", "prepare.limit=range(10,60,step=10)"]
    first = run_medq([*args, "hydra.sweeper.n_trials=3"], cwd=workdir)
    assert first.returncode == 0, first.stderr
    second = run_medq([*args, "hydra.sweeper.n_trials=2"], cwd=workdir)
    assert second.returncode == 0, second.stderr
    study = optuna.load_study(study_name="demo", storage=f"sqlite:///{workdir}/mlruns/optuna.db")
    assert len(study.trials) == 5, "the second sweep continues the persisted study"
    for trial in study.trials:
        assert trial.value <= trial.params["prepare.limit"], "records_out can never exceed the records read"
    _, runs = mlflow_runs(workdir, "demo")
    assert len([r for r in runs if "mlflow.parentRunId" not in r.data.tags]) == 5


def test_objective_naming_a_missing_metric_is_a_clear_error(workdir):
    result = run_medq(["+recipe=demo", "stages=[prepare]", "prepare.source.n_questions=30", "objective=prepare.rouge_l"], cwd=workdir)
    assert result.returncode == 1
    assert "objective 'prepare.rouge_l': stage 'prepare' logged no metric 'rouge_l' (it logged:" in result.stderr


def test_full_demo_runs_every_stage_and_nests_them_under_one_mlflow_run(workdir):
    result = run_medq(["+recipe=demo", "prepare.source.n_questions=200"], cwd=workdir, env={"HF_HUB_OFFLINE": "1"},
                      timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    stages = ["prepare", "base_model", "sft", "dpo", "merge", "evaluate", "index", "retrieval_eval", "agent_eval"]
    for stage in stages:
        assert re.search(rf"^  {stage} +done ", result.stdout, re.M), f"{stage} did not run: {result.stdout}"
    _, runs = mlflow_runs(workdir, "demo")
    [parent] = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert sorted(c.info.run_name for c in children) == sorted(stages)
    assert all(c.info.status == "FINISHED" for c in children)
    metrics = parent.data.metrics
    assert metrics["merge.parity_passed"] == 1.0 and metrics["merge.parity_greedy_identical"] == 1.0
    assert metrics["prepare.records_in"] == metrics["prepare.records_out"] + metrics["prepare.rejected_total"]
    assert 0.0 < metrics["retrieval_eval.bm25.recall_at_10"] <= 1.0
    assert 0.0 <= metrics["evaluate.rougeL_f"] <= 1.0 and metrics["sft.train_loss"] > 0
    assert metrics["agent_eval.audit.intercept_rate"] >= 0.98  # the shipped held-out auditor suite, no model
