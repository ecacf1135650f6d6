"""Issue 11's GPU path: one `distributed` switch for every training stage, real-model recipes that merge their last
training stage's adapter with production settings, demo recipes refused on a real model, merge lineage naming the
stage it consumed, and the torchrun command for static and elastic (c10d) rendezvous."""

import json
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from medq.config import config_dirs, validate_pipeline_config
from medq.errors import ConfigError
from medq.runner import _worker_command
from medq.train import MergeStage
from medq.model.loading import ADAPTER_FILE
from medq.stage import Distributed

from tests.fixtures.training import context
from .test_training_config import composed

REAL_RECIPES = {"sft_qwen3_8b_cmedqa2": "sft", "sft_dpo_qwen3_8b_cmedqa2": "dpo", "dpo_qwen32b": "dpo"}


@pytest.fixture
def required(tmp_path):
    """What a user must give a real-model recipe (no default points at anyone's folders): existing files and a
    model folder, since paths are checked before any stage runs."""
    (tmp_path / "questions.csv").write_text("question_id,content\n", encoding="utf-8")
    (tmp_path / "answers.csv").write_text("ans_id,question_id,content\n", encoding="utf-8")
    (tmp_path / "Qwen3").mkdir()
    (tmp_path / "Qwen3" / "config.json").write_text("{}", encoding="utf-8")
    return [f"prepare.source.questions_path={tmp_path / 'questions.csv'}",
            f"prepare.source.answers_path={tmp_path / 'answers.csv'}", f"base_model.name_or_path={tmp_path / 'Qwen3'}"]


def test_one_distributed_switch_sets_every_training_stage_and_a_stage_can_override_one_key(workdir):
    config = validate_pipeline_config(composed("+recipe=demo_train", "distributed=zero3",
                                               "distributed.num_processes=8", "sft.distributed.num_processes=2"))
    sft, dpo = config["sft"]["distributed"], config["dpo"]["distributed"]
    assert dpo["num_processes"] == 8 and sft["num_processes"] == 2
    # the stage override changes that key only: it keeps the root node's DeepSpeed config (an OmegaConf
    # interpolation would have replaced the whole node by {num_processes: 2})
    for layout in (sft, dpo):
        assert layout["name"] == "zero3" and layout["deepspeed"]["zero_optimization"]["stage"] == 3


def test_the_root_switch_is_checked_by_its_own_key(workdir):
    with pytest.raises(ConfigError, match=r"unknown config key 'distributed.num_procs'. Did you mean "
                                          r"'distributed.num_processes'"):
        validate_pipeline_config(composed("+recipe=demo_train", "+distributed.num_procs=8"))


def test_stages_without_a_root_node_keep_the_single_process_defaults():
    from medq.config import inherit_distributed

    container = {"sft": {"_target_": "medq.train.SFTStage", "distributed": {"name": None, "num_processes": None}}}
    inherit_distributed(container)
    assert container["sft"]["distributed"] == {}
    assert vars(Distributed(**container["sft"]["distributed"])) == vars(Distributed())


@pytest.mark.parametrize("name,last", sorted(REAL_RECIPES.items()))
def test_real_model_recipes_merge_their_last_training_stage_with_production_settings(workdir, required, name, last):
    config = validate_pipeline_config(composed(f"+recipe={name}", *required))
    trained = [s for s in config["stages"] if s in ("sft", "dpo")]
    assert trained[-1] == last and config["merge"]["inputs"]["adapter"] == f"{last}.adapter"
    assert config["stages"][-2:] == ["merge", "evaluate"]
    assert config["merge"]["dtype"] == "bf16" and config["evaluate"]["dtype"] == "bf16"
    assert config["merge"]["registry"]["log_model_files"] is False, "no copy of 16/64 GB of weights in mlruns/"
    assert not config["demo"]
    for stage in trained:
        training = config[stage]["training"]
        assert training["precision"] == "bf16" and training["max_length"] == 2048
        assert training["learning_rate"] == {"sft": 1.0e-4, "dpo": 5.0e-6}[stage]
        assert config[stage]["max_train_samples"] is None, "the whole data set"
        layout = config[stage]["distributed"]
        assert layout["num_processes"] == 8 and layout["deepspeed"]["zero_optimization"]["stage"] in (2, 3)
    raw = yaml.safe_load((config_dirs()[1] / f"{name}.yaml").read_text())
    assert "source" not in raw.get("prepare", {}), "a recipe sets no data path: the user gives it"
    assert "name_or_path" not in json.dumps(raw), "nor a model folder"


def test_dpo_qwen32b_shards_parameters(workdir, required):
    config = validate_pipeline_config(composed("+recipe=dpo_qwen32b", *required))
    assert config["distributed"]["name"] == "zero3" and config["dpo"]["precompute_ref_log_probs"] is True


def test_demo_recipe_on_a_real_model_is_refused_unless_allowed(workdir, required):
    model = required[-1]
    with pytest.raises(ConfigError, match=r"recipe 'demo_train' is a demo .* Use \+recipe=sft_qwen3_8b_cmedqa2 .*"
                                          r"allow_demo_settings=true"):
        validate_pipeline_config(composed("+recipe=demo_train", "base_model=qwen3_8b", model))
    allowed = validate_pipeline_config(composed("+recipe=demo_train", "base_model=qwen3_8b", model,
                                                "allow_demo_settings=true"))
    assert allowed["base_model"]["source"] == "pretrained"
    assert validate_pipeline_config(composed("+recipe=demo_train"))["demo"] is True  # the tiny model is fine


def test_demo_refusal_comes_before_the_unset_model_path():
    # the mistake to report is the demo recipe, not the base_model.name_or_path the real model would need
    with pytest.raises(ConfigError, match=r"recipe 'demo_train' is a demo"):
        validate_pipeline_config(composed("+recipe=demo_train", "base_model=qwen3_8b"))


@pytest.mark.parametrize("name", ["demo", "demo_train", "serve_demo", "agent_demo", "assistant_demo"])
def test_demo_recipes_say_first_that_they_check_the_pipeline(name):
    lines = (config_dirs()[1] / f"{name}.yaml").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# @package _global_" and "does not train a useful model" in lines[1]
    assert yaml.safe_load("\n".join(lines))["demo"] is True


def _card_with_run(adapter: Path, into: Path, **run_ids: str) -> Path:
    """The adapter as a tracked run writes it: its card records the training run (the session fixtures ran
    without MLflow)."""
    copy = into / adapter.parent.parent.name / "adapter"
    shutil.copytree(adapter, copy)
    card = json.loads((copy / ADAPTER_FILE).read_text(encoding="utf-8"))
    card["mlflow_run_id"] = run_ids[card["stage"]]
    if card.get("sft"):
        card["sft"]["mlflow_run_id"] = run_ids["sft"]
    (copy / ADAPTER_FILE).write_text(json.dumps(card), encoding="utf-8")
    return copy


def test_merge_lineage_names_the_stage_it_consumed(tmp_path, base, sft_adapter, dpo_output):
    runs = {"sft": "run-of-sft", "dpo": "run-of-dpo"}
    inputs = {"model": base["model"], "template": base["chat_template"]}
    dpo = MergeStage()._lineage(context("merge", tmp_path / "m1", {
        **inputs, "adapter": _card_with_run(dpo_output["adapter"], tmp_path, **runs)}))
    assert dpo["lineage.consumed"] == "dpo.adapter" and dpo["lineage.consumed_run_id"] == "run-of-dpo"
    assert dpo["lineage.dpo_run_id"] == "run-of-dpo" and dpo["lineage.sft_run_id"] == "run-of-sft"

    sft_only = MergeStage(inputs={"model": "base_model.model", "adapter": "sft.adapter",
                                  "template": "base_model.chat_template"})
    sft = sft_only._lineage(context("merge", tmp_path / "m2", {
        **inputs, "adapter": _card_with_run(sft_adapter, tmp_path, **runs)}))
    assert sft["lineage.consumed"] == "sft.adapter" and sft["lineage.consumed_run_id"] == "run-of-sft"
    assert sft["lineage.sft_run_id"] == "run-of-sft" and "lineage.dpo_run_id" not in sft


def _stage(**layout):
    return SimpleNamespace(launcher="torchrun",
                           distributed=Distributed(**{"num_processes": 4, "nnodes": 2, **layout}))


def test_static_rendezvous_puts_rank_zero_on_node_zero(monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    command = _worker_command(_stage(num_processes=4, nnodes=2, rdzv_endpoint="gpu03:29500"), Path("/r.json"), 1)
    assert command[:3] == [sys.executable, "-m", "torch.distributed.run"]
    assert command[3:9] == ["--nnodes=2", "--node_rank=1", "--nproc_per_node=4", "--master_addr=gpu03",
                            "--master_port=29500", "-m"]
    assert command[-2:] == ["medq.stage_worker", "/r.json"]
    assert not any(a.startswith("--rdzv") for a in command)


def test_elastic_rendezvous_uses_c10d_with_one_id_on_every_node(monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    request = Path("/shared/artifacts/sft/.abc.tmp/.worker_request.json")
    node0 = _worker_command(_stage(nnodes=2, rdzv_endpoint="gpu03:29400", rdzv_backend="c10d"), request, 0)
    node1 = _worker_command(_stage(nnodes=2, rdzv_endpoint="gpu03:29400", rdzv_backend="c10d"), request, 1)
    assert node0 == node1, "no node rank: c10d assigns ranks itself"
    assert "--rdzv_backend=c10d" in node0 and "--rdzv_endpoint=gpu03:29400" in node0
    assert not any(a.startswith(("--node_rank", "--master_addr")) for a in node0)
    [rdzv_id] = [a for a in node0 if a.startswith("--rdzv_id=")]
    other = _worker_command(_stage(nnodes=2, rdzv_endpoint="gpu03:29400", rdzv_backend="c10d"), Path("/x.json"), 0)
    assert rdzv_id not in other, "another stage run gets another rendezvous"
    monkeypatch.setenv("SLURM_JOB_ID", "81234")
    assert "--rdzv_id=81234" in _worker_command(_stage(rdzv_endpoint="gpu03:29400", rdzv_backend="c10d"), request, 0)
    # setting an id chooses the elastic form too
    named = _worker_command(_stage(rdzv_endpoint="gpu03:29400", rdzv_id="job7"), request, 1)
    assert "--rdzv_id=job7" in named and "--rdzv_backend=c10d" in named


def test_more_ranks_than_visible_gpus_names_the_key(monkeypatch):
    """No GPU here: torch's device count stands in for a machine with two visible GPUs."""
    import torch

    from medq.train.trl_args import check_visible_gpus

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    with pytest.raises(ConfigError, match=r"sft: distributed.num_processes = 8 ranks on this node but 2 GPU\(s\) are "
                                          r"visible \(CUDA_VISIBLE_DEVICES=0,1\); set distributed.num_processes=2"):
        check_visible_gpus("sft", Distributed(num_processes=8), "cuda")
    check_visible_gpus("sft", Distributed(num_processes=2), "cuda")
    check_visible_gpus("sft", Distributed(num_processes=8), "cpu")  # gloo ranks on CPU: no GPU to count
