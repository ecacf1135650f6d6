"""Loading models, tokenizers and adapters the way every stage does: training, evaluation, merge, parity and serving.

A `model` artifact is a folder with the tokenizer (carrying the pinned chat template) and either the weights or
`medq_model.json` pointing at them (a 32B checkpoint is never copied into the artifact store). An adapter folder
carries `medq_adapter.json`, the base architecture's fingerprint and the template's hash, so an adapter is never
attached to the wrong base or served with another template.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medq.artifacts import sha256_json
from medq.errors import MedqError
from medq.model.chat_template import TEMPLATE_FILE, ChatTemplate

POINTER_FILE = "medq_model.json"
ADAPTER_FILE = "medq_adapter.json"
# Config keys that do not change what the weights compute; left out of the architecture fingerprint.
_VOLATILE_KEYS = {"_name_or_path", "transformers_version", "dtype", "torch_dtype", "use_cache", "pad_token_id",
                  "bos_token_id", "eos_token_id", "architectures", "quantization_config", "output_attentions",
                  "output_hidden_states", "return_dict"}


def architecture_fingerprint(config: Any) -> str:
    """Hash of the model config fields that decide tensor shapes and maths: adapters are checked against it."""
    data = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    return sha256_json({k: v for k, v in data.items() if k not in _VOLATILE_KEYS})


def weights_source(model_dir: Path) -> str:
    """Where the weights of a `model` artifact live: the folder itself or the path/hub id it points at."""
    pointer = Path(model_dir) / POINTER_FILE
    if pointer.is_file():
        return json.loads(pointer.read_text(encoding="utf-8"))["source"]
    return str(model_dir)


def load_tokenizer(model_dir: Path, template: ChatTemplate) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    template.check(tokenizer, model_dir)
    tokenizer.padding_side = "right"
    return tokenizer


def load_model(model_dir: Path, dtype: Any = None, quantization: Any = None, device_map: Any = None) -> Any:
    from transformers import AutoModelForCausalLM

    source = weights_source(model_dir)
    kwargs: dict[str, Any] = {"dtype": dtype} if dtype is not None else {}
    if quantization is not None:
        kwargs["quantization_config"] = quantization
    if device_map is not None:
        kwargs["device_map"] = device_map
    try:
        return AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except OSError as exc:
        raise MedqError(f"cannot load model weights from '{source}' (artifact {model_dir}): "
                        f"{str(exc).splitlines()[0]}") from None


def write_adapter_card(adapter_dir: Path, base_dir: Path, base_config: Any, template: ChatTemplate,
                       **extra: Any) -> None:
    card = {"base_model": str(base_dir), "base_weights": weights_source(base_dir),
            "base_fingerprint": architecture_fingerprint(base_config), "template_sha256": template.sha256, **extra}
    (Path(adapter_dir) / ADAPTER_FILE).write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n",
                                                  encoding="utf-8")


def check_adapter_matches(adapter_dir: Path, base_config: Any, base_dir: Path, template: ChatTemplate) -> dict:
    """Refuse an adapter trained on another architecture or with another template, before any work starts."""
    card_path = Path(adapter_dir) / ADAPTER_FILE
    if not (Path(adapter_dir) / "adapter_config.json").is_file():
        raise MedqError(f"{adapter_dir}: not a PEFT adapter folder (no adapter_config.json).")
    if not card_path.is_file():
        raise MedqError(f"{card_path}: missing; medq cannot tell which base model this adapter was trained on.")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    if card["base_fingerprint"] != architecture_fingerprint(base_config):
        raise MedqError(f"{adapter_dir}: adapter was trained on base '{card['base_weights']}' whose architecture "
                        f"differs from base '{weights_source(base_dir)}'; point the stage's inputs at the base "
                        f"model the adapter was trained on.")
    if card["template_sha256"] != template.sha256:
        raise MedqError(f"{adapter_dir}: adapter was trained with another chat template "
                        f"(sha256 {card['template_sha256'][:12]}, pinned {template.sha256[:12]}).")
    return card


def is_quantized(config: Any) -> bool:
    return getattr(config, "quantization_config", None) is not None


def load_with_adapter(base_dir: Path, adapter_dir: Path, template: ChatTemplate, dtype: Any,
                      trainable: bool = False) -> Any:
    """The full-precision base with the adapter attached (not merged); refuses quantized bases and foreign adapters."""
    from peft import PeftModel
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(base_dir))
    if is_quantized(config):
        raise MedqError(f"{base_dir}: the base model is quantized ({config.quantization_config.get('quant_method', '?')}); "
                        f"adapters are merged into a full-precision base only: point the input at the bf16/fp32 "
                        f"checkpoint.")
    check_adapter_matches(adapter_dir, config, base_dir, template)
    base = load_model(base_dir, dtype)
    return PeftModel.from_pretrained(base, str(adapter_dir), is_trainable=trainable)


def save_model(model: Any, tokenizer: Any, template: ChatTemplate, out: Path, max_shard_size: str = "2GB") -> None:
    """Sharded safetensors plus the tokenizer carrying the pinned template."""
    model.save_pretrained(out, max_shard_size=max_shard_size, safe_serialization=True)
    template.apply_to(tokenizer).save_pretrained(out)
    template.save(Path(out) / TEMPLATE_FILE)
