"""The `dpo` stage: the SFT adapter keeps training as the DPO policy against a frozen copy of itself.

Why two adapters: with the trained SFT adapter attached, "disable the adapter" gives the *base* model, which is not
the SFT policy DPO must stay close to. Given a PEFT model whose adapter is trainable, TRL adds a second adapter,
`ref`, copying it: the `default` adapter (the SFT adapter) is the policy and goes on learning, `ref` stays frozen
and is the reference, so reference == SFT policy exactly. Nothing merged is written: the DPO adapter sits on the
base model, so `merge` (and a LoRA-serving vLLM) reads it on the base, and a 32B model is never copied. Without an
SFT adapter, a fresh LoRA is trained and the reference is the base (adapter disabled), which is then the start
policy. The stage records which reference it used.

setup: template, preference pairs (checked), SFT adapter checked against the base. run: TRL `DPOTrainer`.
save (rank 0 only): the DPO adapter (the `default` adapter, without `ref`) + card.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Literal

from medq.artifacts import sha256_path
from medq.errors import ConfigError, MedqError
from medq.config import as_dataclass
from medq.stage import StageContext, require_inputs
from medq.model.chat_template import ChatTemplate
from medq.train.checkpoints import CheckpointDir, train_resumably, training_fingerprint
from medq.train.data import load_preference_pairs
from medq.model.loading import ADAPTER_FILE, load_model, load_tokenizer, load_with_adapter, write_adapter_card
from medq.train.sft import Launcher, check_launch
from medq.model.device import Device, resolve_device, resolve_precision, torch_dtype
from medq.stage import Distributed
from medq.train.trl_args import Adapter, Training, check_visible_gpus, dpo_config, lora_config, quantization_config

log = logging.getLogger(__name__)
DEFAULT_INPUTS = {"model": "base_model.model", "template": "base_model.chat_template", "sft_adapter": "sft.adapter",
                  "pairs": "prepare.preference_pairs"}
LossType = Literal["sigmoid", "hinge", "ipo", "robust", "bco_pair", "sppo_hard", "nca_pair", "aot", "aot_unpaired",
                   "apo_zero", "apo_down", "discopop", "sigmoid_norm"]
REFERENCE_ADAPTER = "ref"  # the name TRL gives the frozen copy of a trainable adapter


class DPOStage:
    outputs = ("adapter",)

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
        require_inputs("dpo", self.inputs, DEFAULT_INPUTS, "model", "template", "pairs")
        if beta <= 0:
            raise ConfigError(f"dpo.beta must be > 0, got {beta}.")
        self._fingerprint_config = {"beta": beta, "loss_type": loss_type, "precompute": precompute_ref_log_probs,
                                    "training": vars(self.training), "peft": vars(self.peft),
                                    "distributed": vars(self.distributed), "max_train_samples": max_train_samples}

    def build_trainer(self, ctx: StageContext) -> tuple[Any, Any, Any, Any, str]:
        """Everything up to a ready `DPOTrainer`: (trainer, checkpoints, template, tokenizer, reference)."""
        from transformers import set_seed
        from trl import DPOTrainer

        template = ChatTemplate.load(ctx.inputs["template"])
        tokenizer = load_tokenizer(ctx.inputs["model"], template)
        pairs = load_preference_pairs(ctx.inputs["pairs"], template.enable_thinking)
        if self.max_train_samples:
            pairs = pairs.shuffle(seed=ctx.seed).select(range(min(self.max_train_samples, len(pairs))))
        device = resolve_device(self.device)
        check_visible_gpus("dpo", self.distributed, device)
        precision = resolve_precision(self.training.precision, device)
        if self.peft.method == "qlora":
            quantization_config(self.peft, device, "dpo")  # fails early with the reason on CPU
            raise ConfigError("dpo.peft.method = qlora is not supported yet: DPO loads the base in full precision "
                              "with the SFT adapter; use dpo.peft.method=lora (or dora) with ZeRO-3 for large models.")
        fingerprint = training_fingerprint("dpo", self._fingerprint_config, ctx.inputs, ctx.seed)
        checkpoints = CheckpointDir.for_stage(self.checkpoint_dir, ctx, fingerprint)
        checkpoints.check()
        args = dpo_config(self.training, str(checkpoints.path), device, self.distributed, "dpo", False, ctx.seed,
                          self.beta, self.loss_type, self.precompute_ref_log_probs)
        set_seed(ctx.seed)
        if "sft_adapter" in ctx.inputs:
            # the SFT adapter, trainable, on the base: TRL copies it into a frozen `ref` adapter (the reference)
            model = load_with_adapter(ctx.inputs["model"], ctx.inputs["sft_adapter"], template,
                                      torch_dtype(precision), trainable=True)  # checks the adapter's card first
            peft_config = None
            reference = f"SFT policy (frozen copy of {ctx.inputs['sft_adapter']} on {ctx.inputs['model']})"
        else:
            model = load_model(ctx.inputs["model"], torch_dtype(precision))
            peft_config = lora_config(self.peft)
            reference = f"base model {ctx.inputs['model']} (no SFT adapter given)"
        ctx.tracker.set_tags({"reference_model": reference, "dpo_beta": self.beta, "dpo_loss_type": self.loss_type,
                              "precompute_ref_log_probs": self.precompute_ref_log_probs, "device": device,
                              "precision": precision, "distributed": self.distributed.name})
        trainer = DPOTrainer(model=model, ref_model=None, args=args, train_dataset=pairs,
                             processing_class=tokenizer, peft_config=peft_config)
        if peft_config is None and REFERENCE_ADAPTER not in trainer.model.peft_config:
            raise MedqError("dpo: TRL did not add the frozen reference adapter; the reference would be the base "
                            "model, not the SFT policy (check the installed trl/peft versions).")
        return trainer, checkpoints, template, tokenizer, reference

    def run(self, ctx: StageContext) -> dict[str, str]:
        trainer, checkpoints, template, tokenizer, reference = self.build_trainer(ctx)
        # what TRL actually did: precomputed log-probs are columns of the training set
        reference_log_probs = "precomputed" if "ref_chosen_logps" in trainer.train_dataset.column_names \
            else "on_the_fly"
        ctx.tracker.set_tags({"reference_log_probs": reference_log_probs})
        metrics = train_resumably(trainer, checkpoints, ctx.tracker)
        last = [h for h in trainer.state.log_history if "rewards/accuracies" in h]
        if last:
            metrics.update({"rewards_accuracy": float(last[-1]["rewards/accuracies"]),
                            "rewards_margin": float(last[-1]["rewards/margins"])})

        # save: one rank writes (every rank holds the same adapter after training)
        adapter = ctx.output_dir / "adapter"
        if trainer.is_world_process_zero():
            trainer.model.save_pretrained(adapter, selected_adapters=["default"])  # not the frozen `ref` copy
            template.apply_to(tokenizer).save_pretrained(adapter)
            sft_card = json.loads((ctx.inputs["sft_adapter"] / ADAPTER_FILE).read_text(encoding="utf-8")) \
                if "sft_adapter" in ctx.inputs else None
            reference_sha = sha256_path(ctx.inputs.get("sft_adapter", ctx.inputs["model"]))
            write_adapter_card(adapter, ctx.inputs["model"], trainer.model.get_base_model().config, template,
                               stage="dpo", mlflow_run_id=ctx.tracker.run_id, reference_model=reference,
                               reference_model_sha256=reference_sha, reference_log_probs=reference_log_probs,
                               peft_method=self.peft.method if sft_card is None else sft_card.get("peft_method"),
                               pairs_sha256=sha256_path(ctx.inputs["pairs"]), sft=sft_card)
        # the process that logs (node 0's local rank 0) need not be the one that saved: wait for the save
        trainer.accelerator.wait_for_everyone()
        ctx.tracker.log_artifact(adapter, "adapter")
        metrics["train_pairs"] = float(len(trainer.train_dataset))
        ctx.tracker.log_metrics(metrics)
        checkpoints.release(self.keep_checkpoints)
        log.info("dpo: %d steps, loss %.4f, reference: %s", metrics["global_step"], metrics["train_loss"], reference)
        return {"adapter": "adapter"}
