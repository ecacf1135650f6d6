"""Which device and precision a stage computes on; shared by training, evaluation, merge and parity."""

from __future__ import annotations

from typing import Any, Literal

from medq.errors import ConfigError

Device = Literal["auto", "cpu", "cuda"]
Precision = Literal["auto", "bf16", "fp16", "fp32"]


def resolve_device(device: Device) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device = 'cuda' but no CUDA GPU is visible; set device=auto or device=cpu.")
    return device


def resolve_precision(precision: Precision, device: str) -> str:
    import torch

    if precision == "auto":
        return "bf16" if device == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    if device == "cpu" and precision != "fp32":
        raise ConfigError(f"precision = '{precision}' on CPU: mixed precision needs a GPU here; use precision=fp32 "
                          f"(or auto).")
    return precision


def torch_dtype(precision: str) -> Any:
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[precision]
