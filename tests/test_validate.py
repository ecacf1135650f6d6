"""Everything that can be known from the config fails before the first stage: outside paths, required values, how
the stages are wired, Hydra composition errors. `--validate` and `--cfg job` run the same checks and nothing else."""

import time
from pathlib import Path
from typing import Callable

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from medq.cli import validate_run_config
from medq.config import config_dirs, recipe_names, register_recipes
from medq.errors import ConfigError
from tests.conftest import REPO
from medq.wiring import check_wiring

from .conftest import run_medq


def composed(*overrides):
    register_recipes()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dirs()[0]), version_base="1.3"):
            return compose("config", overrides=list(overrides))
    finally:
        GlobalHydra.instance().clear()


# --- files a recipe's required overrides point at: made in the test's folder, never real data -------------------
def cmedqa2_files(root: Path) -> list[str]:
    questions, answers = root / "questions.csv", root / "answers.csv"
    questions.write_text("question_id,content\n1,头痛怎么办\n", encoding="utf-8")
    answers.write_text("ans_id,question_id,content\n1,1,多休息\n", encoding="utf-8")
    return [f"prepare.source.questions_path={questions}", f"prepare.source.answers_path={answers}"]


def dialogue_csv(root: Path) -> list[str]:
    path = root / "dialogue.csv"
    path.write_text("department,title,ask,answer\n内科,头痛,头痛怎么办,多休息\n", encoding="utf-8")
    return [f"prepare.source.path={path}"]


def model_folder(root: Path) -> list[str]:
    folder = root / "Qwen3-8B"  # ModelLocation checks only that a local model is a folder
    folder.mkdir(exist_ok=True)
    return [f"base_model.name_or_path={folder}"]


def compare_suites(root: Path) -> list[str]:
    """compare_models' suite files and adapters: the demo suite files stand in for the downloaded ones."""
    demo = REPO / "medq" / "evaluate" / "demo_suites"
    adapters = root / "adapters"
    adapters.mkdir(exist_ok=True)
    return [f"compare.suites.cmmlu.dir={demo / 'cmmlu'}", "compare.suites.cmmlu.subjects=[anatomy]",
            f"compare.suites.ceval.dir={demo / 'ceval'}", "compare.suites.ceval.subjects=[basic_medicine]",
            f"compare.suites.safetybench.test={demo / 'safetybench' / 'test_zh.json'}",
            f"compare.suites.safetybench.answers={demo / 'safetybench' / 'test_answers_zh.json'}",
            f"compare.suites.cmb_clin.cases={demo / 'cmb_clin.json'}",
            f"serve.lora_modules.0.path={adapters}", f"serve.lora_modules.1.path={adapters}"]


def evaluated_folder(root: Path) -> list[str]:
    folder = root / "merged"
    folder.mkdir(exist_ok=True)
    return [f"evaluate.model={folder}"]


# Every recipe in recipes/ with the overrides it needs to validate. A new recipe must be added here: the test below
# fails for a recipe missing from this table, so no recipe ships that nobody has composed.
REQUIRED: dict[str, list[Callable[[Path], list[str]]]] = {
    "agent_demo": [],
    "assistant_demo": [],
    "audit_eval": [],
    "compare_demo": [],
    "compare_models": [cmedqa2_files, model_folder, compare_suites],
    "demo": [],
    "demo_rag": [],
    "demo_train": [],
    "dialogue_rag": [dialogue_csv],
    "dpo_qwen32b": [cmedqa2_files, model_folder],
    "evaluate_model": [evaluated_folder],
    "prepare_cmedqa2": [cmedqa2_files],
    "prepare_dialogue": [dialogue_csv],
    "serve_demo": [],
    "sft_dpo_qwen3_8b_cmedqa2": [cmedqa2_files, model_folder],
    "sft_qwen3_8b_cmedqa2": [cmedqa2_files, model_folder],
    "triage_dialogue": [dialogue_csv],
}


@pytest.mark.parametrize("recipe", recipe_names())
def test_every_recipe_validates_with_its_required_overrides(recipe, workdir):
    assert recipe in REQUIRED, f"recipe {recipe!r} is missing from REQUIRED in {__file__}: add its required overrides"
    overrides = [o for make in REQUIRED[recipe] for o in make(workdir)]
    container = validate_run_config(composed(f"+recipe={recipe}", *overrides))
    assert container["stages"], f"recipe {recipe} runs no stage"


@pytest.mark.parametrize("recipe", sorted(r for r, needs in REQUIRED.items() if needs))
def test_a_recipe_without_its_required_overrides_names_the_first_missing_key(recipe, workdir):
    with pytest.raises(ConfigError, match=r"config key '[\w.]+' must be set \(e\.g\. [\w.]+=VALUE"):
        validate_run_config(composed(f"+recipe={recipe}"))


def test_hub_id_without_a_hub_fails_at_once_naming_the_key(workdir, monkeypatch):
    from medq.paths import hub_reachable

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub_reachable.cache_clear()
    cfg = composed("+recipe=sft_qwen3_8b_cmedqa2", *cmedqa2_files(workdir), "base_model.name_or_path=Qwen/Qwen3-8B")
    started = time.monotonic()
    with pytest.raises(ConfigError) as error:
        validate_run_config(cfg)
    assert time.monotonic() - started < 5, "no retries against an unreachable hub"
    assert "'base_model.name_or_path' = 'Qwen/Qwen3-8B'" in str(error.value) and "local folder" in str(error.value)
    hub_reachable.cache_clear()


def test_wrong_eval_set_path_is_named_with_its_key(workdir):
    cfg = composed("+recipe=demo", f"prepare.contamination.eval_sets=[{{name: cmmlu, path: {workdir}/nope.csv, "
                                   "fields: [Question]}]")
    with pytest.raises(ConfigError, match=r"'prepare.contamination.eval_sets\[0\].path' = '.*nope.csv': no such file"):
        validate_run_config(cfg)


# --- wiring ---------------------------------------------------------------------------------------------------
TRAIN = "stages=[prepare,base_model,sft,dpo,merge,evaluate]"


def test_a_dpo_adapter_nobody_merges_is_an_error_naming_the_stage_and_artifact(workdir):
    with pytest.raises(ConfigError) as error:
        validate_run_config(composed("+recipe=demo_train", TRAIN, "merge.inputs.adapter=sft.adapter"))
    message = str(error.value)
    assert message.startswith("stage 'dpo' writes dpo.adapter but no later stage reads it")
    assert "merge.inputs.adapter reads sft.adapter" in message and "final_outputs" in message
    # the same pipeline is fine once the recipe says the adapter is a result of its own
    validate_run_config(composed("+recipe=demo_train", TRAIN, "merge.inputs.adapter=sft.adapter",
                                 "final_outputs=[dpo.adapter]"))


def test_inputs_must_name_an_earlier_stages_declared_artifact(workdir):
    with pytest.raises(ConfigError, match=r"'merge.inputs.adapter' = 'dpo.adaptor': stage 'dpo' \(DPOStage\) writes "
                                          r"no 'adaptor'. Did you mean 'adapter'\?"):
        validate_run_config(composed("+recipe=demo_train", "merge.inputs.adapter=dpo.adaptor"))
    with pytest.raises(ConfigError, match=r"'merge.inputs.adapter' = 'dpo.adapter': stage 'dpo' runs after"):
        validate_run_config(composed("+recipe=demo_train", "stages=[prepare,base_model,sft,merge,dpo,evaluate]"))
    with pytest.raises(ConfigError, match=r"'evaluate.inputs.model' = 'merge.model': no stage 'merge' runs in this "
                                          r"pipeline"):
        validate_run_config(composed("+recipe=demo_train", "stages=[prepare,base_model,sft,dpo,evaluate]"))
    with pytest.raises(ConfigError, match=r"'final_outputs' names 'dpo.adaptor'"):
        validate_run_config(composed("+recipe=demo_train", "final_outputs=[dpo.adaptor]"))


def test_a_minimal_prepare_cannot_feed_a_stage_that_reads_its_corpus_or_pairs(workdir):
    # the run would fail only after prepare had read the whole data set; validation says so before it starts
    with pytest.raises(ConfigError, match=r"'index.inputs.corpus' = 'prepare.corpus': stage 'prepare' writes no "
                                          r"'corpus' with this config: prepare.profile=minimal writes only"):
        validate_run_config(composed("+recipe=demo_rag", "prepare.profile=minimal"))
    with pytest.raises(ConfigError, match=r"'dpo.inputs.pairs' = 'prepare.preference_pairs': .*prepare.profile=minimal"):
        validate_run_config(composed("+recipe=demo_train", TRAIN, "prepare.profile=minimal"))
    # what minimal does write is enough for SFT alone
    validate_run_config(composed("+recipe=demo_train", TRAIN, "prepare.profile=minimal",
                                 "stages=[prepare,base_model,sft,merge,evaluate]", "merge.inputs.adapter=sft.adapter"))


def test_a_model_service_counts_as_a_reader_of_what_it_serves():
    config = {
        "stages": ["base_model", "sft", "serve_parity"],
        "base_model": {"_target_": "medq.train.BaseModelStage", "inputs": {}},
        "sft": {"_target_": "medq.train.SFTStage", "inputs": {"model": "base_model.model"}},
        "serve": {"_target_": "medq.serve.VLLMServer", "inputs": {"model": "base_model.model"},
                  "lora_modules": [{"name": "medq-sft", "path": "sft.adapter"}]},
        "serve_parity": {"_target_": "medq.serve.parity.ServeParityStage", "inputs": {"endpoint": "serve.endpoint"}},
    }
    check_wiring(config)  # sft.adapter is read by the server that serve_parity starts
    config["serve"]["lora_modules"] = []
    with pytest.raises(ConfigError, match=r"stage 'sft' writes sft.adapter but no later stage reads it"):
        check_wiring(config)


# --- the real CLI -----------------------------------------------------------------------------------------------
def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


@pytest.mark.slow
def test_cli_validate_prints_one_line_and_runs_nothing(workdir):
    result = run_medq(["+recipe=demo_train", "--validate"], cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "config ok: 6 stages (prepare, base_model, sft, dpo, merge, evaluate)"
    assert not any((workdir / d).exists() for d in ("artifacts", "outputs", "mlruns"))


@pytest.mark.slow
def test_cli_validate_and_cfg_job_refuse_what_a_run_would_refuse(workdir):
    result = run_medq(["+recipe=demo", "prepare.limit=ten", "--cfg", "job"], cwd=workdir)
    assert result.returncode == 2 and result.stdout == ""
    assert error_lines(result.stderr) == ["medq: error: config key 'prepare.limit' = 'ten' is invalid: Input should "
                                          "be a valid integer, unable to parse string as an integer (expected int | "
                                          "None)."]
    wired = run_medq(["+recipe=demo_train", TRAIN, "merge.inputs.adapter=sft.adapter", "--validate"], cwd=workdir)
    assert wired.returncode == 2 and "stage 'dpo' writes dpo.adapter" in wired.stderr
    printed = run_medq(["+recipe=demo_train", "--cfg", "job"], cwd=workdir)
    assert printed.returncode == 0
    assert "stages:" in printed.stdout and "_target_: medq.train.MergeStage" in printed.stdout
    assert not any((workdir / d).exists() for d in ("artifacts", "outputs", "mlruns"))


@pytest.mark.slow
@pytest.mark.parametrize("args, expected", [
    (["+recipe=demo_trian"], "medq: error: unknown recipe 'demo_trian'. Did you mean 'demo_train'? Valid recipes: "),
    (["+recipe=demo_train", "base_model=qwen3_7b"],
     "medq: error: unknown option 'qwen3_7b' for config group 'base_model'. Did you mean 'qwen3_8b'? Valid options for "
     "'base_model': qwen3_32b, qwen3_8b, tiny."),
    (["+recipe=demo", "prepare/sourc=csv"], "medq: error: unknown config group 'prepare/sourc'. Did you mean "
                                            "'prepare/source'? Valid groups: "),
])
def test_cli_composition_errors_are_one_line_with_did_you_mean(workdir, args, expected):
    result = run_medq(args, cwd=workdir)
    assert result.returncode == 2
    [line] = error_lines(result.stderr)
    assert line.startswith(expected), line
    assert "HYDRA_FULL_ERROR" not in result.stderr


@pytest.mark.slow
def test_cli_run_with_a_missing_data_file_fails_before_the_first_stage(workdir):
    questions, answers = cmedqa2_files(workdir)
    result = run_medq(["+recipe=prepare_cmedqa2", questions, f"prepare.source.answers_path={workdir}/answer.csv"],
                      cwd=workdir)
    assert result.returncode == 1
    assert error_lines(result.stderr) == [f"medq: error: config key 'prepare.source.answers_path' = "
                                          f"'{workdir}/answer.csv': no such file: {workdir}/answer.csv."]
    assert not (workdir / "artifacts").exists() and not (workdir / "mlruns").exists(), "no stage, no MLflow run"
    unset = run_medq(["+recipe=prepare_dialogue"], cwd=workdir)
    assert unset.returncode == 1
    assert error_lines(unset.stderr) == ["medq: error: config key 'prepare.source.path' must be set (e.g. "
                                         "prepare.source.path=VALUE on the command line)"]
    assert not (workdir / "mlruns").exists()
