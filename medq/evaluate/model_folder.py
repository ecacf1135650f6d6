"""A model folder from outside the pipeline, as `evaluate` loads it: base, merged, or base + PEFT adapter.

Three forms, told apart by what is on disk:
- a model folder (config.json, weights, tokenizer): a base or a merged model, loaded as it is;
- `adapter` given beside it: the folder is the base, the adapter is attached and merged in memory
  (`merge_and_unload`, what the merge stage does), so lm-eval and generation see one plain model;
- a PEFT adapter folder (adapter_config.json) given as the model: its base is `base_model`, else the adapter's own
  `base_model_name_or_path` when that is a local folder.
The tokenizer always comes from the base (a LoRA adapter does not change the vocabulary).

The chat template (for ROUGE and the chat-template CMMLU protocol; lm-eval's CMMLU prompt uses none):
- `template: qwen3` (a name from medq/model/chat_template.py): medq's pinned template replaces the tokenizer's;
- `template: null`: the folder's own — medq's `chat_template.json` when the folder has one (what the merge stage
  writes; the tokenizer is checked against it), otherwise the tokenizer's `chat_template`, stopping at its EOS
  token and the generation config's `eos_token_id`s.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medq.errors import ConfigError, MedqError
from medq.model.chat_template import TEMPLATE_FILE, ChatTemplate

log = logging.getLogger(__name__)
ADAPTER_CONFIG = "adapter_config.json"


def is_adapter_folder(path: str | Path) -> bool:
    return (Path(path).expanduser() / ADAPTER_CONFIG).is_file()


@dataclass(frozen=True)
class ModelFolder:
    """Which folders make up the model to evaluate; built from the `evaluate.*` keys, checked before any work."""

    base: Path
    adapter: Path | None

    @property
    def form(self) -> str:
        return "model" if self.adapter is None else "base+adapter"

    @classmethod
    def resolve(cls, model: str, adapter: str | None = None, base_model: str | None = None) -> "ModelFolder":
        model_path = Path(model).expanduser()
        if adapter is not None:
            if base_model is not None:
                raise ConfigError("evaluate.base_model and evaluate.adapter are both set: with an adapter, "
                                  "evaluate.model is the base; drop evaluate.base_model.")
            if is_adapter_folder(model_path):
                raise ConfigError(f"evaluate.model = {model} is itself a PEFT adapter; with evaluate.adapter set it "
                                  f"must be the base model folder.")
            if not is_adapter_folder(adapter):
                raise ConfigError(f"evaluate.adapter = {adapter}: not a PEFT adapter folder (no {ADAPTER_CONFIG}).")
            return cls(model_path, Path(adapter).expanduser())
        if not is_adapter_folder(model_path):
            if base_model is not None:
                raise ConfigError(f"evaluate.base_model is set but evaluate.model = {model} is not a PEFT adapter "
                                  f"(no {ADAPTER_CONFIG}): drop evaluate.base_model.")
            return cls(model_path, None)
        if base_model is None:
            config = json.loads((model_path / ADAPTER_CONFIG).read_text(encoding="utf-8"))
            base_model = config.get("base_model_name_or_path")
            if not base_model or not Path(base_model).expanduser().is_dir():
                raise ConfigError(f"evaluate.model = {model} is a PEFT adapter whose base "
                                  f"'{base_model}' ({ADAPTER_CONFIG}: base_model_name_or_path) is not a local "
                                  f"folder: set evaluate.base_model=/path/to/its/base.")
        return cls(Path(base_model).expanduser(), model_path)

    def folders(self) -> list[Path]:
        """What the result depends on, hashed into the stage's cache key."""
        return [p for p in (self.base, self.adapter) if p is not None and p.exists()]

    def load(self, dtype: Any) -> Any:
        from medq.model.loading import load_model

        model = load_model(self.base, dtype)
        if self.adapter is None:
            return model
        from peft import PeftModel

        try:
            with_adapter = PeftModel.from_pretrained(model, str(self.adapter))
        except (RuntimeError, ValueError, OSError) as exc:  # e.g. shapes of another base
            raise MedqError(f"adapter {self.adapter} cannot be attached to base {self.base}: "
                            f"{str(exc).splitlines()[0]}") from None
        return with_adapter.merge_and_unload()

    def load_tokenizer(self, template_name: str | None, enable_thinking: bool) -> tuple[Any, ChatTemplate | None]:
        """The base's tokenizer and the chat template prompts are built with (None: the folder has none)."""
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(self.base))
        if template_name is not None:
            template = ChatTemplate.builtin(template_name, enable_thinking)
            template.apply_to(tokenizer)
        elif (self.base / TEMPLATE_FILE).is_file():
            template = ChatTemplate.load(self.base / TEMPLATE_FILE)
            template.check(tokenizer, self.base)
        elif getattr(tokenizer, "chat_template", None):
            template = tokenizer_template(self.base, tokenizer, enable_thinking)
        else:
            template = None
        if tokenizer.pad_token is None:  # batched generation pads; the EOS token is the usual stand-in
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "right"
        return tokenizer, template


def tokenizer_template(folder: Path, tokenizer: Any, enable_thinking: bool) -> ChatTemplate:
    """The tokenizer's own template as a ChatTemplate: stop at its EOS and the generation config's EOS ids."""
    stops = [tokenizer.eos_token] if tokenizer.eos_token else []
    generation = folder / "generation_config.json"
    if generation.is_file():
        ids = json.loads(generation.read_text(encoding="utf-8")).get("eos_token_id")
        for token_id in ids if isinstance(ids, list) else [ids] if ids is not None else []:
            token = tokenizer.convert_ids_to_tokens(int(token_id))
            if token and token not in stops:
                stops.append(token)
    if not stops:
        raise MedqError(f"{folder}: the tokenizer names no EOS token, so generation cannot stop; "
                        f"set evaluate.template (e.g. qwen3).")
    return ChatTemplate(f"tokenizer of {folder.name}", tokenizer.chat_template, enable_thinking, tuple(stops),
                        tokenizer.pad_token or stops[0])
