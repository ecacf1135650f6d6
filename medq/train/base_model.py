"""The `base_model` stage and how later stages load models and adapters.

`base_model` fixes two things for the whole pipeline: which weights are the base (a tiny model built here, or a
local path / hub id for Qwen3-8B/32B) and the pinned chat template. Its `model` artifact is a folder with the
tokenizer (carrying the template) and either the weights (tiny) or `medq_model.json` pointing at them, so a
32B checkpoint is never copied into the artifact store.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Literal

from medq.artifacts import sha256_json
from medq.errors import ConfigError, MedqError
from medq.paths import ModelLocation
from medq.config import as_dataclass
from medq.runner import StageContext
from medq.train.chat_template import TEMPLATE_FILE, ChatTemplate
from medq.train.tiny import TinyQwen3, build_model, conversation_texts, pretrain, train_tokenizer

log = logging.getLogger(__name__)
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


class BaseModelStage:
    """Resolves the base model and pins the chat template for the pipeline."""

    outputs = ("model", "chat_template")

    def __init__(self, source: Literal["tiny", "pretrained"], template: Literal["qwen3"] = "qwen3",
                 enable_thinking: bool = False, name_or_path: ModelLocation | None = None,
                 tiny: TinyQwen3 | None = None, inputs: dict[str, str] | None = None):
        self.source = source
        self.template = ChatTemplate.builtin(template, enable_thinking)
        self.name_or_path = name_or_path
        self.tiny = as_dataclass(TinyQwen3, tiny)
        self.inputs = inputs or {}
        if source == "pretrained" and not name_or_path:
            raise ConfigError("base_model.name_or_path must be set for source=pretrained (a local folder or hub id, "
                              "e.g. model=qwen3_8b base_model.name_or_path=/models/Qwen3-8B).")
        if source == "tiny" and "corpus" not in self.inputs:
            raise ConfigError("base_model.inputs.corpus must name the prepared text the tiny tokenizer is trained on "
                              "(e.g. prepare.train).")

    def run(self, ctx: StageContext) -> dict[str, str]:
        out = ctx.output_dir / "model"
        out.mkdir()
        if self.source == "tiny":
            tokenizer = train_tokenizer(conversation_texts(ctx.inputs["corpus"]), self.tiny.vocab_size, self.template)
            model = build_model(self.tiny, tokenizer, ctx.seed)
            if self.tiny.pretrain_steps:
                losses = pretrain(model, tokenizer, list(conversation_texts(ctx.inputs["corpus"])), self.tiny, ctx.seed)
                for step, loss in enumerate(losses, start=1):
                    if step % 10 == 0 or step == len(losses):
                        ctx.tracker.log_metrics({"pretrain_loss": loss}, step=step)
                ctx.tracker.log_metrics({"pretrain_final_loss": losses[-1]} if losses else {})
            model.save_pretrained(out)
            weights = f"tiny Qwen3 built here (random init, {self.tiny.pretrain_steps} LM steps on the corpus)"
        else:
            tokenizer, weights = self._resolve_pretrained(out)
        tokenizer.save_pretrained(out)
        self.template.save(ctx.output_dir / TEMPLATE_FILE)
        params = sum(p.numel() for p in model.parameters()) if self.source == "tiny" else None
        ctx.tracker.set_tags({"base_model": weights, "chat_template": self.template.name,
                              "chat_template_sha256": self.template.sha256,
                              "enable_thinking": self.template.enable_thinking})
        ctx.tracker.log_artifact(ctx.output_dir / TEMPLATE_FILE)
        ctx.tracker.log_metrics({"vocab_size": len(tokenizer), **({"parameters": params} if params else {})})
        log.info("base_model: %s, template %s (sha256 %s)", weights, self.template.name, self.template.sha256[:12])
        return {"model": "model", "chat_template": TEMPLATE_FILE}

    def _resolve_pretrained(self, out: Path) -> tuple[Any, str]:
        from transformers import AutoConfig, AutoTokenizer

        source = self.name_or_path
        if Path(source).expanduser().is_dir():
            source = str(Path(source).expanduser().resolve())
        elif Path(source).expanduser().exists() or source.startswith(("/", ".", "~")):
            raise ConfigError(f"base_model.name_or_path = '{self.name_or_path}' is not a model folder.")
        try:
            config = AutoConfig.from_pretrained(source)
            tokenizer = AutoTokenizer.from_pretrained(source)
        except OSError as exc:
            offline = " (HF_HUB_OFFLINE is set: download it first or give a local folder)" \
                if os.environ.get("HF_HUB_OFFLINE") else ""
            raise ConfigError(f"base_model.name_or_path = '{self.name_or_path}' cannot be loaded{offline}: "
                              f"{str(exc).splitlines()[0]}") from None
        self.template.apply_to(tokenizer)
        (out / POINTER_FILE).write_text(json.dumps({"source": source, "fingerprint": architecture_fingerprint(config)},
                                                   indent=2) + "\n", encoding="utf-8")
        config.save_pretrained(out)
        return tokenizer, source


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
