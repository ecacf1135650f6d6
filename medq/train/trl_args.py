"""medq's stable training keys -> TRL / PEFT / transformers arguments. The only file that knows their names.

TRL renames arguments between releases (`tokenizer` -> `processing_class`, `max_seq_length` -> `max_length`,
`evaluation_strategy` -> `eval_strategy`, `no_cuda` -> `use_cpu`) and TRL 1.x defaults `bf16=True` and gradient
checkpointing even on CPU. Recipes use the keys below; a TRL upgrade changes this file only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from medq.errors import ConfigError
from medq.model.device import Precision, resolve_precision
from medq.stage import Distributed



@dataclass
class Training:
    """Optimisation and bookkeeping shared by sft and dpo (`sft.training.*`, `dpo.training.*`)."""

    learning_rate: float = 2e-4
    epochs: float = 1.0
    max_steps: int = -1                 # > 0 overrides epochs
    batch_size: int = 4                 # per device
    gradient_accumulation_steps: int = 1
    max_length: int | None = 1024     # None: no truncation (required by padding-free without packing)
    warmup_ratio: float = 0.03
    lr_scheduler: str = "cosine"
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    gradient_checkpointing: bool | Literal["auto"] = "auto"   # auto: on for CUDA, off on CPU
    precision: Precision = "auto"       # auto: bf16 on a GPU that supports it, else fp32
    logging_steps: int = 10
    save_steps: int = 200               # checkpoint every N optimizer steps
    save_total_limit: int | None = 2
    eval_steps: int | None = None       # None: evaluate once at the end if there is a validation split
    dataloader_workers: int = 0


@dataclass
class Adapter:
    """The PEFT adapter (`sft.peft.*`, `dpo.peft.*`): LoRA, QLoRA (4-bit base) or DoRA."""

    method: Literal["lora", "qlora", "dora"] = "lora"
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"


def check_visible_gpus(stage: str, distributed: Distributed, device: str) -> None:
    """One rank per GPU: more ranks per node than visible GPUs would fail in every rank with an invalid device
    ordinal (or share a GPU and run out of memory); say which key to change instead."""
    import os

    import torch

    visible = torch.cuda.device_count() if device == "cuda" else 0
    if device == "cuda" and distributed.num_processes > visible:
        raise ConfigError(f"{stage}: distributed.num_processes = {distributed.num_processes} ranks on this node but "
                          f"{visible} GPU(s) are visible (CUDA_VISIBLE_DEVICES="
                          f"{os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')}); set distributed.num_processes="
                          f"{visible} (and raise gradient_accumulation_steps to keep the global batch).")


def _common(training: Training, output_dir: str, device: str, distributed: Distributed, run_name: str,
            has_eval: bool) -> dict[str, Any]:
    precision = resolve_precision(training.precision, device)
    checkpointing = training.gradient_checkpointing
    if checkpointing == "auto":
        checkpointing = device == "cuda"
    eval_strategy = "no"
    if has_eval:
        eval_strategy = "steps" if training.eval_steps else "no"
    return dict(
        output_dir=output_dir, run_name=run_name, report_to=[],  # medq logs to its own MLflow run (callback)
        learning_rate=training.learning_rate, num_train_epochs=training.epochs, max_steps=training.max_steps,
        per_device_train_batch_size=training.batch_size, per_device_eval_batch_size=training.batch_size,
        gradient_accumulation_steps=training.gradient_accumulation_steps, warmup_steps=training.warmup_ratio,  # transformers 5: a float < 1 is a ratio
        lr_scheduler_type=training.lr_scheduler, weight_decay=training.weight_decay,
        max_grad_norm=training.max_grad_norm, activation_checkpointing=checkpointing,  # transformers 5 name
        activation_checkpointing_kwargs={"use_reentrant": False} if checkpointing else None,
        bf16=precision == "bf16", fp16=precision == "fp16", use_cpu=device == "cpu",
        logging_steps=training.logging_steps, logging_first_step=True, save_strategy="steps",
        save_steps=training.save_steps, save_total_limit=training.save_total_limit, eval_strategy=eval_strategy,
        eval_steps=training.eval_steps, include_num_input_tokens_seen="non_padding",  # tokens/s without pads
        dataloader_num_workers=training.dataloader_workers, max_length=training.max_length,
        deepspeed=distributed.deepspeed, seed=0, data_seed=0, disable_tqdm=True,
    )


def sft_config(training: Training, output_dir: str, device: str, distributed: Distributed, run_name: str,
               has_eval: bool, seed: int, packing: bool, padding_free: bool) -> Any:
    from trl import SFTConfig

    if padding_free and not packing and training.max_length is not None:
        raise ConfigError("sft.padding_free = true without sft.packing: TRL cannot enforce sft.training.max_length "
                          "then; set sft.packing=true (BFD packing is padding-free) or sft.training.max_length=null.")
    args = _common(training, output_dir, device, distributed, run_name, has_eval)
    args.update(seed=seed, data_seed=seed, assistant_only_loss=True, packing=packing,
                packing_strategy="bfd", padding_free=padding_free or packing,
                dataset_num_proc=None)
    return SFTConfig(**args)


def dpo_config(training: Training, output_dir: str, device: str, distributed: Distributed, run_name: str,
               has_eval: bool, seed: int, beta: float, loss_type: str, precompute_ref_log_probs: bool) -> Any:
    from trl import DPOConfig

    args = _common(training, output_dir, device, distributed, run_name, has_eval)
    args.update(seed=seed, data_seed=seed, beta=beta, loss_type=[loss_type],
                precompute_ref_log_probs=precompute_ref_log_probs, dataset_num_proc=None)
    return DPOConfig(**args)


def lora_config(adapter: Adapter) -> Any:
    from peft import LoraConfig

    return LoraConfig(r=adapter.r, lora_alpha=adapter.alpha, lora_dropout=adapter.dropout,
                      target_modules=adapter.target_modules, use_dora=adapter.method == "dora",
                      task_type="CAUSAL_LM")


def quantization_config(adapter: Adapter, device: str, stage: str) -> Any | None:
    """QLoRA's 4-bit NF4 base; None for LoRA/DoRA."""
    if adapter.method != "qlora":
        return None
    if device != "cuda":
        raise ConfigError(f"{stage}.peft.method = qlora needs a CUDA GPU (bitsandbytes 4-bit kernels); use "
                          f"{stage}.peft.method=lora on CPU.")
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise ConfigError(f"{stage}.peft.method = qlora needs bitsandbytes: pip install -c constraints.txt "
                          f"bitsandbytes") from None
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16)
