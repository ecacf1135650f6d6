"""The `dpo` stage: SFT adapter merged into the base, then a fresh DPO LoRA with the merged SFT model as reference.

Why merge first: with a trained SFT adapter still attached, "disable the adapter" gives the *base* model, which is
not the SFT policy DPO must stay close to. Merging makes the SFT model the new base, so TRL's adapter-disabled
reference is exactly the SFT model. The stage records which reference it used.

setup: template, preference pairs (checked), SFT adapter checked against the base. run: merge, save the merged SFT
model (the DPO adapter's base and reference), TRL `DPOTrainer` with a new LoRA. save: DPO adapter + card.
"""

from __future__ import annotations

import json
import logging
from typing import Literal

from medq.artifacts import sha256_path
from medq.errors import ConfigError
from medq.config import as_dataclass
from medq.runner import StageContext
from medq.train.chat_template import ChatTemplate
from medq.train.checkpoints import CheckpointDir, train_resumably, training_fingerprint
from medq.train.data import load_preference_pairs
from medq.train.models import (
    ADAPTER_FILE,
    load_model,
    load_tokenizer,
    load_with_adapter,
    save_model,
    write_adapter_card,
)
from medq.train.sft import Launcher, check_launch
from medq.train.trl_args import (Adapter, Device, Distributed, Training, dpo_config, lora_config,
                                 quantization_config, resolve_device, resolve_precision, torch_dtype)

log = logging.getLogger(__name__)
DEFAULT_INPUTS = {"model": "base_model.model", "template": "base_model.chat_template", "sft_adapter": "sft.adapter",
                  "pairs": "prepare.preference_pairs"}
LossType = Literal["sigmoid", "hinge", "ipo", "robust", "bco_pair", "sppo_hard", "nca_pair", "aot", "aot_unpaired",
                   "apo_zero", "apo_down", "discopop", "sigmoid_norm"]


class DPOStage:
    outputs = ("adapter", "sft_merged")

    def __init__(self, inputs: dict[str, str] | None = None, beta: float = 0.1, loss_type: LossType = "sigmoid",
                 precompute_ref_log_probs: bool = False, training: Training | None = None,
                 peft: Adapter | None = None, distributed: Distributed | None = None, device: Device = "auto",
                 max_train_samples: int | None = None, checkpoint_dir: str | None = None,
                 keep_checkpoints: bool = False, launcher: Launcher = "subprocess"):
        self.inputs = inputs or dict(DEFAULT_INPUTS)
        self.beta = beta
        self.loss_type = loss_type
        self.precompute_ref_log_probs = precompute_ref_log_probs
        self.training = as_dataclass(Training, training)
        self.peft = as_dataclass(Adapter, peft)
        self.distributed = as_dataclass(Distributed, distributed)
        self.device = device
        self.max_train_samples = max_train_samples
        self.checkpoint_dir = checkpoint_dir
        self.keep_checkpoints = keep_checkpoints
        self.launcher = check_launch("dpo", self.distributed, launcher)
        for key in ("model", "template", "pairs"):
            if key not in self.inputs:
                raise ConfigError(f"dpo.inputs.{key} is missing (e.g. {key}: {DEFAULT_INPUTS[key]}).")
        if beta <= 0:
            raise ConfigError(f"dpo.beta must be > 0, got {beta}.")
        self._fingerprint_config = {"beta": beta, "loss_type": loss_type, "precompute": precompute_ref_log_probs,
                                    "training": vars(self.training), "peft": vars(self.peft),
                                    "distributed": vars(self.distributed), "max_train_samples": max_train_samples}

    @property
    def num_processes(self) -> int:
        """Ranks a multi-process launcher should start (the runner's hook for torchrun)."""
        return self.distributed.num_processes

    def run(self, ctx: StageContext) -> dict[str, str]:
        from transformers import set_seed
        from trl import DPOTrainer

        # setup
        template = ChatTemplate.load(ctx.inputs["template"])
        tokenizer = load_tokenizer(ctx.inputs["model"], template)
        pairs = load_preference_pairs(ctx.inputs["pairs"], template.enable_thinking)
        if self.max_train_samples:
            pairs = pairs.shuffle(seed=ctx.seed).select(range(min(self.max_train_samples, len(pairs))))
        device = resolve_device(self.device)
        precision = resolve_precision(self.training.precision, device)
        if self.peft.method == "qlora":
            quantization_config(self.peft, device, "dpo")  # fails early with the reason on CPU
            raise ConfigError("dpo.peft.method = qlora is not supported yet: the merged SFT model is the DPO base "
                              "and reference; use dpo.peft.method=lora (or dora) with ZeRO-3 for large models.")
        fingerprint = training_fingerprint("dpo", self._fingerprint_config, ctx.inputs, ctx.seed)
        checkpoints = CheckpointDir.for_stage(self.checkpoint_dir, ctx, fingerprint)
        checkpoints.check()
        args = dpo_config(self.training, str(checkpoints.path), device, self.distributed, "dpo", False, ctx.seed,
                          self.beta, self.loss_type, self.precompute_ref_log_probs)
        set_seed(ctx.seed)

        # the SFT policy becomes the base: merge, save (it is the DPO adapter's base and the reference)
        policy_base = ctx.output_dir / "sft_merged"
        sft_card = None
        if "sft_adapter" in ctx.inputs:
            merged = load_with_adapter(ctx.inputs["model"], ctx.inputs["sft_adapter"], template,
                                       torch_dtype(precision)).merge_and_unload()  # checks the adapter's card first
            sft_card = json.loads((ctx.inputs["sft_adapter"] / ADAPTER_FILE).read_text(encoding="utf-8"))
            save_model(merged, tokenizer, template, policy_base)
            reference = f"merged SFT model ({ctx.inputs['sft_adapter']} merged into {ctx.inputs['model']})"
        else:
            merged = load_model(ctx.inputs["model"], torch_dtype(precision))
            save_model(merged, tokenizer, template, policy_base)
            reference = f"base model {ctx.inputs['model']} (no SFT adapter given)"
        reference_sha = sha256_path(policy_base)
        ctx.tracker.set_tags({"reference_model": reference, "reference_model_sha256": reference_sha,
                              "dpo_beta": self.beta, "dpo_loss_type": self.loss_type,
                              "precompute_ref_log_probs": self.precompute_ref_log_probs, "device": device,
                              "precision": precision, "distributed": self.distributed.name})

        # run: a fresh LoRA on the merged model; TRL's reference = the same model with the adapter disabled
        trainer = DPOTrainer(model=merged, ref_model=None, args=args, train_dataset=pairs,
                             processing_class=tokenizer, peft_config=lora_config(self.peft))
        # what TRL actually did: precomputed log-probs are columns of the training set
        reference_log_probs = "precomputed" if "ref_chosen_logps" in trainer.train_dataset.column_names \
            else "on_the_fly"
        ctx.tracker.set_tags({"reference_log_probs": reference_log_probs})
        metrics = train_resumably(trainer, checkpoints, ctx.tracker)
        last = [h for h in trainer.state.log_history if "rewards/accuracies" in h]
        if last:
            metrics.update({"rewards_accuracy": float(last[-1]["rewards/accuracies"]),
                            "rewards_margin": float(last[-1]["rewards/margins"])})

        # save
        adapter = ctx.output_dir / "adapter"
        if trainer.is_world_process_zero():
            trainer.model.save_pretrained(adapter)
            template.apply_to(tokenizer).save_pretrained(adapter)
            write_adapter_card(adapter, policy_base, merged.config, template, stage="dpo",
                               mlflow_run_id=ctx.tracker.run_id, reference_model=reference,
                               reference_model_sha256=reference_sha,
                               reference_log_probs=reference_log_probs, peft_method=self.peft.method,
                               pairs_sha256=sha256_path(ctx.inputs["pairs"]), sft=sft_card)
            ctx.tracker.log_artifact(adapter, "adapter")
        metrics["train_pairs"] = float(len(pairs))
        ctx.tracker.log_metrics(metrics)
        checkpoints.release(self.keep_checkpoints)
        log.info("dpo: %d steps, loss %.4f, reference: %s", metrics["global_step"], metrics["train_loss"], reference)
        return {"adapter": "adapter", "sft_merged": "sft_merged"}
