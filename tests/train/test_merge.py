"""Merge with a parity check: a faithful merge passes, an unfaithful one fails the stage; quantized bases refused."""

import json

import pytest

from medq.errors import MedqError
from medq.tracking import MlflowTracker
from medq.train import MergeStage

from tests.fixtures.training import context


def merge_inputs(base, dpo_output):
    return {"model": base["model"], "adapter": dpo_output["adapter"], "template": base["chat_template"]}


def test_merge_passes_parity_saves_shards_with_the_template_and_registers_lineage(tmp_path, base, dpo_output):
    tracker = MlflowTracker(f"sqlite:///{tmp_path}/mlruns/mlflow.db", "merge-test", str(tmp_path / "mlruns" / "art"))
    with tracker.pipeline_run("p", {}, {}), tracker.stage_run("merge", {}) as stage_tracker:
        stage = MergeStage(max_shard_size="200KB", registry={"name": "medq-test"})
        ctx = context("merge", tmp_path / "out", merge_inputs(base, dpo_output), stage_tracker)
        stage.run(ctx)
        stage.after_publish(ctx, tmp_path / "out")  # what the runner calls once the folder is published
        run_id = stage_tracker.run_id
    report = json.loads((tmp_path / "out" / "parity.json").read_text())
    assert report["passed"] and report["greedy_identical"] and report["max_abs_logit_diff"] < 1e-4
    assert report["greedy_unmerged"] == report["greedy_merged"]
    model = tmp_path / "out" / "model"
    assert len(list(model.glob("model-*-of-*.safetensors"))) > 1 and (model / "model.safetensors.index.json").is_file()
    assert (model / "chat_template.jinja").is_file() and (model / "chat_template.json").is_file()
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{tmp_path}/mlruns/mlflow.db")
    run = client.get_run(run_id)
    assert run.data.metrics["parity_passed"] == 1.0
    version = client.get_model_version("medq-test", "1")
    assert version.run_id == run_id
    assert version.tags["lineage.reference_model"].startswith("SFT policy")
    assert version.tags["lineage.train_data_sha256"] and version.tags["lineage.preference_data_sha256"]
    assert version.tags["lineage.base_model"].endswith("model")


def test_failing_parity_fails_the_stage(tmp_path, base, dpo_output):
    # a negative tolerance cannot be met: stands for a merge whose logits drift
    with pytest.raises(MedqError, match=r"merge parity check failed: max \|logit diff\| .* see .*parity.json"):
        MergeStage(parity={"logits_atol": -1.0}, registry={"enabled": False}).run(
            context("merge", tmp_path / "out", merge_inputs(base, dpo_output)))
    assert json.loads((tmp_path / "out" / "parity.json").read_text())["passed"] is False


def test_a_merge_that_drops_the_adapter_is_caught(tmp_path, base, dpo_output, monkeypatch):
    # A real merge bug, not a tolerance trick: PEFT's `unload` (remove the LoRA layers WITHOUT merging them) in place
    # of `merge_and_unload`. The saved model is then the bare base; the default tolerance must catch it.
    from peft.tuners.lora import LoraModel

    monkeypatch.setattr(LoraModel, "merge_and_unload", lambda self, *args, **kwargs: self.unload())
    with pytest.raises(MedqError, match=r"merge parity check failed"):
        MergeStage(registry={"enabled": False}).run(context("merge", tmp_path / "out", merge_inputs(base, dpo_output)))
    report = json.loads((tmp_path / "out" / "parity.json").read_text())
    assert report["passed"] is False and report["max_abs_logit_diff"] > report["logits_atol"] == 1e-3


def test_quantized_base_is_refused(tmp_path, base, dpo_output):
    import shutil

    quantized = tmp_path / "quantized"
    shutil.copytree(base["model"], quantized)
    config = json.loads((quantized / "config.json").read_text())
    config["quantization_config"] = {"quant_method": "bitsandbytes", "load_in_4bit": True}
    (quantized / "config.json").write_text(json.dumps(config))
    with pytest.raises(MedqError, match=r"quantized: the base model is quantized \(bitsandbytes\); adapters are merged "
                                        r"into a full-precision base only"):
        MergeStage(registry={"enabled": False}).run(
            context("merge", tmp_path / "out", {**merge_inputs(base, dpo_output), "model": quantized}))


def test_adapter_without_medq_card_is_refused(tmp_path, base, dpo_output):
    import shutil

    adapter = tmp_path / "adapter"
    shutil.copytree(dpo_output["adapter"], adapter)
    (adapter / "medq_adapter.json").unlink()
    with pytest.raises(MedqError, match=r"medq_adapter.json: missing; medq cannot tell which base model"):
        MergeStage(registry={"enabled": False}).run(
            context("merge", tmp_path / "out", {**merge_inputs(base, dpo_output), "adapter": adapter}))
