"""DPO after SFT: the SFT adapter trains on against its frozen copy; pairs and adapters are checked first."""

import json

import pytest

from medq.errors import MedqError
from medq.tracking import MlflowTracker
from medq.train import DPOStage
from medq.model.chat_template import ChatTemplate
from medq.model.loading import ADAPTER_FILE, architecture_fingerprint, load_model, load_with_adapter

from tests.fixtures.training import FAST_TRAINING, build_base, context


def dpo_stage(**overrides):
    settings = dict(training={**FAST_TRAINING, "max_length": 256}, peft={"r": 4, "alpha": 8}, device="cpu",
                    max_train_samples=16, launcher="inprocess")
    return DPOStage(**{**settings, **overrides})


def test_dpo_continues_the_sft_adapter_against_a_frozen_copy_and_records_the_reference(tmp_path, base, prepared,
                                                                                         sft_adapter):
    tracker = MlflowTracker(f"sqlite:///{tmp_path}/mlruns/mlflow.db", "dpo-test", str(tmp_path / "mlruns" / "art"))
    with tracker.pipeline_run("p", {}, {}), tracker.stage_run("dpo", {}) as stage_tracker:
        dpo_stage(beta=0.2, loss_type="ipo").run(context(
            "dpo", tmp_path / "out", {"model": base["model"], "template": base["chat_template"],
                                      "sft_adapter": sft_adapter, "pairs": prepared["preference_pairs"]},
            stage_tracker))
        run_id = stage_tracker.run_id
    import mlflow

    run = mlflow.MlflowClient(f"sqlite:///{tmp_path}/mlruns/mlflow.db").get_run(run_id)
    assert run.data.tags["reference_model"].startswith("SFT policy")
    assert run.data.tags["dpo_loss_type"] == "ipo" and run.data.tags["dpo_beta"] == "0.2"
    assert "rewards_accuracy" in run.data.metrics and run.data.metrics["global_step"] == 6
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["adapter"], "no merged SFT copy is written"
    assert not (out / "adapter" / "ref").exists(), "only the policy adapter is saved, not the frozen reference"
    card = json.loads((out / "adapter" / ADAPTER_FILE).read_text())
    assert card["stage"] == "dpo" and card["sft"]["stage"] == "sft" and card["reference_model_sha256"]
    assert card["base_model"] == str(base["model"]), "the DPO adapter sits on the base model"
    assert card["reference_log_probs"] == run.data.tags["reference_log_probs"] == "on_the_fly"


def test_reference_is_the_sft_policy_and_stays_frozen_while_the_policy_learns(tmp_path, base, prepared, sft_adapter):
    import torch
    from trl.trainer.utils import use_adapter

    from medq.train.dpo import REFERENCE_ADAPTER

    stage = dpo_stage(max_train_samples=8)
    ctx = context("dpo", tmp_path / "out", {"model": base["model"], "template": base["chat_template"],
                                            "sft_adapter": sft_adapter, "pairs": prepared["preference_pairs"]})
    trainer, checkpoints, *_ = stage.build_trainer(ctx)
    model = trainer.model
    sft = load_with_adapter(base["model"], sft_adapter, ChatTemplate.load(base["chat_template"]), torch.float32).eval()
    ids = torch.tensor([[5, 6, 7, 8, 9, 10]])

    def logits(adapter=None):
        model.eval()
        with torch.no_grad():
            if adapter is None:
                return model(input_ids=ids).logits
            with use_adapter(model, adapter_name=adapter):
                return model(input_ids=ids).logits

    with torch.no_grad():
        expected = sft(input_ids=ids).logits
        with sft.disable_adapter():
            base_logits = sft(input_ids=ids).logits
    assert not torch.allclose(expected, base_logits, atol=1e-4), "the SFT adapter changes the model"
    assert torch.allclose(logits(REFERENCE_ADAPTER), expected, atol=1e-5), "reference == SFT policy"
    assert torch.allclose(logits(), expected, atol=1e-5), "the policy starts as the SFT policy"
    trainer.train()
    assert torch.allclose(logits(REFERENCE_ADAPTER), expected, atol=1e-5), "the reference stays frozen"
    assert not torch.allclose(logits(), expected, atol=1e-5), "the policy (the SFT adapter) learned"
    checkpoints.release(False)


def test_precomputed_reference_log_probs_are_used(dpo_output):
    card = json.loads((dpo_output["adapter"] / ADAPTER_FILE).read_text())
    assert card["reference_log_probs"] == "precomputed"
    assert card["reference_model"].startswith("SFT policy")


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
    assert not any((tmp_path / "out").iterdir()), "nothing is written before the check"


def test_architecture_fingerprint_ignores_dtype_but_not_shapes(base):
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(base["model"]))
    same = AutoConfig.from_pretrained(str(base["model"]), dtype="bfloat16")
    assert architecture_fingerprint(config) == architecture_fingerprint(same)
    config.num_hidden_layers += 1
    assert architecture_fingerprint(config) != architecture_fingerprint(same)
