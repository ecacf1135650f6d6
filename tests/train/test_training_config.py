"""Config groups and recipes: model swaps, DeepSpeed configs checked by DeepSpeed, pretrained models resolved."""

import json
from pathlib import Path

import pytest
import yaml

from medq.config import config_dirs, validate_pipeline_config
from medq.errors import MedqError
from medq.train import BaseModelStage

from tests.fixtures.training import context

CONF = config_dirs()[0]


def composed(*overrides):
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from medq.config import register_recipes

    GlobalHydra.instance().clear()
    register_recipes()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("config", overrides=list(overrides))
    GlobalHydra.instance().clear()
    return cfg


def test_demo_train_runs_every_training_stage_on_the_tiny_model(workdir):
    config = validate_pipeline_config(composed("+recipe=demo_train"))
    assert config["stages"] == ["prepare", "base_model", "sft", "dpo", "merge", "evaluate"]
    assert config["base_model"]["source"] == "tiny"


@pytest.mark.parametrize("model,name", [("qwen3_8b", "Qwen3-8B"), ("qwen3_32b", "Qwen3-32B")])
def test_model_group_swaps_the_base(workdir, model, name):
    from medq.errors import ConfigError

    with pytest.raises(ConfigError, match=r"config key 'base_model.name_or_path' must be set"):
        validate_pipeline_config(composed("+recipe=demo_train", f"base_model={model}", "allow_demo_settings=true"))
    (workdir / name).mkdir()  # a local model folder (only its existence is checked before the run)
    config = validate_pipeline_config(composed("+recipe=demo_train", f"base_model={model}", "allow_demo_settings=true",
                                               f"base_model.name_or_path={workdir / name}"))
    assert config["base_model"] == {"_target_": "medq.train.BaseModelStage", "source": "pretrained",
                                    "name_or_path": str(workdir / name), "template": "qwen3", "enable_thinking": False}


def test_dpo_qwen32b_uses_zero3_checkpointing_and_precomputed_reference(workdir):
    from tests.test_validate import cmedqa2_files, model_folder

    config = validate_pipeline_config(composed("+recipe=dpo_qwen32b", *cmedqa2_files(workdir), *model_folder(workdir)))
    assert config["dpo"]["precompute_ref_log_probs"] is True
    assert config["dpo"]["training"]["gradient_checkpointing"] is True
    assert config["dpo"]["distributed"]["deepspeed"]["zero_optimization"]["stage"] == 3
    assert config["sft"]["distributed"] == config["dpo"]["distributed"]
    assert config["dpo"]["distributed"]["num_processes"] == 8, "ZeRO-3 on one process does not fit a 32B policy"


def test_typo_in_a_training_key_names_the_valid_keys(workdir):
    from medq.errors import ConfigError

    with pytest.raises(ConfigError, match=r"unknown config key 'sft.training.learning_rat'. Did you mean "
                                          r"'sft.training.learning_rate'"):
        validate_pipeline_config(composed("+recipe=demo_train", "+sft.training.learning_rat=1"))


@pytest.mark.parametrize("name", ["single", "zero2", "zero3", "zero3_offload"])
def test_deepspeed_configs_are_valid_for_deepspeed(name, tmp_path):
    from transformers.integrations.deepspeed import HfTrainerDeepSpeedConfig

    from medq.stage import Distributed
    from medq.train.trl_args import Training, sft_config

    distributed = Distributed(**yaml.safe_load((CONF / "distributed" / f"{name}.yaml").read_text()))
    if distributed.deepspeed is None:
        assert name == "single"
        return
    from deepspeed.runtime.config import DeepSpeedConfig

    args = sft_config(Training(batch_size=2, gradient_accumulation_steps=4), str(tmp_path), "cpu",
                      Distributed(), "x", False, 0, False, False)
    filled = HfTrainerDeepSpeedConfig(json.loads(json.dumps(distributed.deepspeed)))
    filled.trainer_config_process(args)
    filled.fill_only("zero_optimization.reduce_bucket_size", 64 * 64)
    filled.fill_only("zero_optimization.stage3_prefetch_bucket_size", int(0.9 * 64 * 64))
    filled.fill_only("zero_optimization.stage3_param_persistence_threshold", 10 * 64)
    ds = DeepSpeedConfig(filled.config)
    assert ds.zero_optimization_stage == int(name[4])
    assert ds.train_micro_batch_size_per_gpu == 2 and ds.gradient_accumulation_steps == 4
    offload = ds.zero_config.offload_optimizer
    if name.endswith("offload"):
        assert offload is not None and offload.device == "cpu", "zero3_offload must put optimizer state in CPU memory"
    else:
        assert offload is None or offload.device == "none", f"{name} must keep optimizer state on the GPU"


def test_pretrained_source_points_at_a_local_folder_and_pins_the_template(tmp_path, base):
    stage = BaseModelStage(source="pretrained", name_or_path=str(base["model"]))
    stage.run(context("base_model", tmp_path / "out", {}))
    pointer = json.loads((tmp_path / "out" / "model" / "medq_model.json").read_text())
    assert pointer["source"] == str(Path(base["model"]).resolve())
    assert not list((tmp_path / "out" / "model").glob("*.safetensors")), "weights are referenced, not copied"
    assert json.loads((tmp_path / "out" / "chat_template.json").read_text())["name"] == "qwen3"


def test_unreachable_hub_model_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    stage = BaseModelStage(source="pretrained", name_or_path="medq-test/not-a-real-model")
    with pytest.raises(MedqError, match=r"base_model.name_or_path = 'medq-test/not-a-real-model' cannot be loaded "
                                        r"\(HF_HUB_OFFLINE is set"):
        stage.run(context("base_model", tmp_path / "out", {}))


def test_multi_process_training_goes_to_torchrun_and_in_process_is_refused():
    from medq.train import SFTStage

    assert SFTStage(distributed={"name": "zero3", "num_processes": 8}).launcher == "torchrun"
    assert SFTStage(distributed={"name": "zero3", "num_processes": 8}).distributed.num_processes == 8
    assert SFTStage().launcher == "subprocess"
    with pytest.raises(MedqError, match=r"sft.launcher=inprocess cannot run 8 processes"):
        SFTStage(distributed={"name": "zero3", "num_processes": 8}, launcher="inprocess")


def test_qlora_on_cpu_names_the_fix(tmp_path, base, prepared):
    from medq.train import SFTStage

    stage = SFTStage(peft={"method": "qlora"}, device="cpu", launcher="inprocess")
    with pytest.raises(MedqError, match=r"sft.peft.method = qlora needs a CUDA GPU .* use sft.peft.method=lora"):
        stage.build_trainer(context("sft", tmp_path / "out", {"model": base["model"],
                                                              "template": base["chat_template"],
                                                              "train": prepared["train"]}))
