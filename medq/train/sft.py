"""The `sft` stage: LoRA / QLoRA / DoRA supervised fine-tuning with TRL, loss on assistant tokens only.

setup: pinned template, base tokenizer (checked against it), the `messages` splits (checked), the checkpoint
folder of this run. run: TRL `SFTTrainer` with `assistant_only_loss` (the template's `{% generation %}` markers
mark what the assistant says; system and user tokens get label -100), resuming from the last checkpoint.
save: the adapter, the tokenizer with the template, `medq_adapter.json` (which base it belongs to).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from medq.artifacts import sha256_path
from medq.errors import ConfigError
from medq.config import as_dataclass
from medq.stage import StageContext, require_inputs
from medq.model.chat_template import ChatTemplate
from medq.train.checkpoints import CheckpointDir, train_resumably, training_fingerprint
from medq.train.data import load_messages
from medq.model.loading import load_model, load_tokenizer, write_adapter_card
from medq.model.device import Device, resolve_device, resolve_precision, torch_dtype
from medq.stage import Distributed
from medq.train.trl_args import Adapter, Training, check_visible_gpus, lora_config, quantization_config, sft_config

log = logging.getLogger(__name__)
DEFAULT_INPUTS = {"model": "base_model.model", "template": "base_model.chat_template", "train": "prepare.train",
                  "validation": "prepare.validation"}
Launcher = Literal["inprocess", "subprocess"]


def check_launch(stage: str, distributed: Distributed, launcher: str) -> str | None:
    """How the runner starts the stage: torchrun ranks for num_processes > 1, else one worker or in-process."""
    if distributed.num_processes > 1 or distributed.nnodes > 1:
        if launcher == "inprocess":
            raise ConfigError(f"{stage}.launcher=inprocess cannot run {distributed.num_processes} processes on "
                              f"{distributed.nnodes} node(s) ({stage}.distributed); use {stage}.launcher=subprocess")
        return "torchrun"
    return "subprocess" if launcher == "subprocess" else None


class SFTStage:
    outputs = ("adapter",)

    def __init__(self, inputs: dict[str, str] | None = None, training: Training | None = None,
                 peft: Adapter | None = None, distributed: Distributed | None = None, device: Device = "auto",
                 packing: bool = False, padding_free: bool = False, max_train_samples: int | None = None,
                 checkpoint_dir: str | None = None, keep_checkpoints: bool = False, launcher: Launcher = "subprocess"):
        self.inputs = inputs or dict(DEFAULT_INPUTS)
        self.training = as_dataclass(Training, training)
        self.peft = as_dataclass(Adapter, peft)
        self.distributed = as_dataclass(Distributed, distributed)
        self.device = device
        self.packing = packing
        self.padding_free = padding_free
        self.max_train_samples = max_train_samples
        self.checkpoint_dir = checkpoint_dir
        self.keep_checkpoints = keep_checkpoints
        self.launcher = check_launch("sft", self.distributed, launcher)
        require_inputs("sft", self.inputs, DEFAULT_INPUTS, "model", "template", "train")
        self._fingerprint_config = {"training": vars(self.training), "peft": vars(self.peft),
                                    "distributed": vars(self.distributed), "packing": packing,
                                    "padding_free": padding_free, "max_train_samples": max_train_samples}

    def build_trainer(self, ctx: StageContext) -> tuple[Any, CheckpointDir, ChatTemplate, Any]:
        """Everything up to a ready `SFTTrainer`; what can be wrong is checked before a model is loaded."""
        from transformers import set_seed
        from trl import SFTTrainer

        template = ChatTemplate.load(ctx.inputs["template"])
        tokenizer = load_tokenizer(ctx.inputs["model"], template)
        train = load_messages(ctx.inputs["train"], template.enable_thinking)
        if self.max_train_samples:
            train = train.select(range(min(self.max_train_samples, len(train))))
        validation = load_messages(ctx.inputs["validation"], template.enable_thinking) \
            if "validation" in ctx.inputs else None
        device = resolve_device(self.device)
        check_visible_gpus("sft", self.distributed, device)
        precision = resolve_precision(self.training.precision, device)
        quantization = quantization_config(self.peft, device, "sft")
        fingerprint = training_fingerprint("sft", self._fingerprint_config, ctx.inputs, ctx.seed)
        checkpoints = CheckpointDir.for_stage(self.checkpoint_dir, ctx, fingerprint)
        checkpoints.check()
        args = sft_config(self.training, str(checkpoints.path), device, self.distributed, "sft",
                          validation is not None, ctx.seed, self.packing, self.padding_free)
        set_seed(ctx.seed)
        model = load_model(ctx.inputs["model"], torch_dtype(precision), quantization)
        trainer = SFTTrainer(model=model, args=args, train_dataset=train, eval_dataset=validation,
                             processing_class=tokenizer, peft_config=lora_config(self.peft))
        ctx.tracker.set_tags({"device": device, "precision": precision, "peft_method": self.peft.method,
                              "distributed": self.distributed.name, "chat_template_sha256": template.sha256,
                              "packing": self.packing, "padding_free": self.padding_free or self.packing})
        return trainer, checkpoints, template, tokenizer

    def run(self, ctx: StageContext) -> dict[str, str]:
        trainer, checkpoints, template, tokenizer = self.build_trainer(ctx)
        trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
        metrics = train_resumably(trainer, checkpoints, ctx.tracker)
        if trainer.eval_dataset is not None:
            metrics["eval_loss"] = float(trainer.evaluate()["eval_loss"])
        metrics.update(trainable_parameters=float(trainable), train_examples=float(len(trainer.train_dataset)))

        adapter = ctx.output_dir / "adapter"
        if trainer.is_world_process_zero():
            trainer.model.save_pretrained(adapter)
            template.apply_to(tokenizer).save_pretrained(adapter)
            write_adapter_card(adapter, ctx.inputs["model"], trainer.model.get_base_model().config, template,
                               stage="sft", mlflow_run_id=ctx.tracker.run_id, peft_method=self.peft.method,
                               train_data_sha256=sha256_path(ctx.inputs["train"]))
        # the process that logs (node 0's local rank 0) need not be the one that saved: wait for the save
        trainer.accelerator.wait_for_everyone()
        ctx.tracker.log_artifact(adapter, "adapter")
        ctx.tracker.log_metrics(metrics)
        checkpoints.release(self.keep_checkpoints)
        log.info("sft: %d steps, train loss %.4f, %s", metrics["global_step"], metrics["train_loss"],
                 f"{metrics.get('train_tokens_per_second', 0):.0f} tokens/s")
        return {"adapter": "adapter"}
