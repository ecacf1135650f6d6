"""DPO after SFT: the merged SFT model is base and reference; pairs and adapters are checked before training."""

import json

import pytest

from medq.errors import MedqError
from medq.tracking import MlflowTracker
from medq.train import DPOStage
from medq.train.chat_template import ChatTemplate
from medq.train.models import ADAPTER_FILE, architecture_fingerprint, load_model, load_with_adapter

from .helpers import FAST_TRAINING, build_base, context


def dpo_stage(**overrides):
    settings = dict(training={**FAST_TRAINING, "max_length": 256}, peft={"r": 4, "alpha": 8}, device="cpu",
                    max_train_samples=16, launcher="inprocess")
    return DPOStage(**{**settings, **overrides})


def test_dpo_trains_a_fresh_adapter_on_the_merged_sft_model_and_records_the_reference(tmp_path, base, prepared,
                                                                                        sft_adapter):
    tracker = MlflowTracker(f"sqlite:///{tmp_path}/mlruns/mlflow.db", "dpo-test", str(tmp_path / "mlruns" / "art"))
    with tracker.pipeline_run("p", {}, {}), tracker.stage_run("dpo", {}) as stage_tracker:
        dpo_stage(beta=0.2, loss_type="ipo").run(context(
            "dpo", tmp_path / "out", {"model": base["model"], "template": base["chat_template"],
                                      "sft_adapter": sft_adapter, "pairs": prepared["preference_pairs"]},
            stage_tracker))
        run_id = stage_tracker.run_id
    import mlflow
    import torch

    run = mlflow.MlflowClient(f"sqlite:///{tmp_path}/mlruns/mlflow.db").get_run(run_id)
    assert run.data.tags["reference_model"].startswith("merged SFT model")
    assert run.data.tags["dpo_loss_type"] == "ipo" and run.data.tags["dpo_beta"] == "0.2"
    assert "rewards_accuracy" in run.data.metrics and run.data.metrics["global_step"] == 6
    # the saved SFT-merged base is exactly base + SFT adapter merged
    template = ChatTemplate.load(base["chat_template"])
    expected = load_with_adapter(base["model"], sft_adapter, template, torch.float32).merge_and_unload()
    merged = load_model(tmp_path / "out" / "sft_merged")
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    assert torch.allclose(expected(input_ids=ids).logits, merged(input_ids=ids).logits, atol=1e-5)
    card = json.loads((tmp_path / "out" / "adapter" / ADAPTER_FILE).read_text())
    assert card["stage"] == "dpo" and card["sft"]["stage"] == "sft" and card["reference_model_sha256"]
    assert card["reference_log_probs"] == run.data.tags["reference_log_probs"] == "on_the_fly"


def test_precomputed_reference_log_probs_are_used(dpo_output):
    card = json.loads((dpo_output["adapter"] / ADAPTER_FILE).read_text())
    assert card["reference_log_probs"] == "precomputed"
    assert card["reference_model"].startswith("merged SFT model")
    assert (dpo_output["sft_merged"] / "model.safetensors").is_file()


def test_preference_row_without_rejected_fails_before_training(tmp_path, base, sft_adapter):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"prompt": [{"role": "user", "content": "头痛"}],
                                 "chosen": [{"role": "assistant", "content": "休息"}]}, ensure_ascii=False) + "\n")
    with pytest.raises(MedqError, match=r"pairs.jsonl: line 1: preference row is missing rejected"):
        dpo_stage().run(context("dpo", tmp_path / "out", {"model": base["model"], "template": base["chat_template"],
                                                          "sft_adapter": sft_adapter, "pairs": pairs}))


def test_adapter_trained_on_another_base_is_refused(tmp_path, prepared, base, sft_adapter):
    other = build_base(tmp_path, prepared, hidden_size=48, intermediate_size=96)
    with pytest.raises(MedqError, match=r"adapter was trained on base .* whose architecture differs from base"):
        dpo_stage().run(context("dpo", tmp_path / "out", {"model": other["model"], "template": other["chat_template"],
                                                          "sft_adapter": sft_adapter,
                                                          "pairs": prepared["preference_pairs"]}))
    assert not (tmp_path / "out" / "sft_merged").exists(), "nothing is written before the check"


def test_architecture_fingerprint_ignores_dtype_but_not_shapes(base):
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(base["model"]))
    same = AutoConfig.from_pretrained(str(base["model"]), dtype="bfloat16")
    assert architecture_fingerprint(config) == architecture_fingerprint(same)
    config.num_hidden_layers += 1
    assert architecture_fingerprint(config) != architecture_fingerprint(same)
