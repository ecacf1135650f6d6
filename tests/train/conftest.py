"""Session-wide real artifacts (built once, reused read-only): prepared data, a tiny base, an SFT adapter, DPO output."""

from __future__ import annotations

import pytest

from .helpers import FAST_TRAINING, build_base, context, prepare_data


@pytest.fixture(scope="session")
def prepared(tmp_path_factory):
    return prepare_data(tmp_path_factory.mktemp("prepared"))


@pytest.fixture(scope="session")
def base(tmp_path_factory, prepared):
    return build_base(tmp_path_factory.mktemp("base"), prepared)


@pytest.fixture(scope="session")
def sft_adapter(tmp_path_factory, prepared, base):
    from medq.train import SFTStage

    out = tmp_path_factory.mktemp("sft") / "out"
    stage = SFTStage(training=FAST_TRAINING, peft={"r": 4, "alpha": 8}, device="cpu", launcher="inprocess")
    stage.run(context("sft", out, {"model": base["model"], "template": base["chat_template"],
                                   "train": prepared["train"]}))
    return out / "adapter"


@pytest.fixture(scope="session")
def dpo_output(tmp_path_factory, prepared, base, sft_adapter):
    from medq.train import DPOStage

    out = tmp_path_factory.mktemp("dpo") / "out"
    stage = DPOStage(training={**FAST_TRAINING, "max_length": 256}, peft={"r": 4, "alpha": 8}, device="cpu",
                     max_train_samples=16, precompute_ref_log_probs=True, launcher="inprocess")
    stage.run(context("dpo", out, {"model": base["model"], "template": base["chat_template"],
                                   "sft_adapter": sft_adapter, "pairs": prepared["preference_pairs"]}))
    return {"adapter": out / "adapter"}
