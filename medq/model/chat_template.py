"""The pinned chat template: one artifact per pipeline, used by every stage that tokenises conversations.

LLaMA-Factory's most common failure is a template that drifts between training, merging and serving. medq fixes
the template text, `enable_thinking` and the stop tokens once (the `base_model` stage writes
`chat_template.json`), and every later stage loads that file, checks the tokenizer it was handed carries the same
text, and writes it into the tokenizers it saves.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from medq.errors import ConfigError, MedqError

# Qwen3's ChatML layout without tools, with `{% generation %}` markers around what the assistant must learn to emit
# (its empty or filled <think> block, the answer and <|im_end|>), so TRL's `assistant_only_loss` masks the rest.
# `enable_thinking=false` puts the empty think block in the generation prompt, exactly as Qwen3's own template does.
QWEN3_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message.role == 'assistant' %}"
    "{%- set content = message.content %}{%- set reasoning = '' %}"
    "{%- if message.reasoning_content is string %}{%- set reasoning = message.reasoning_content %}"
    "{%- elif '</think>' in content %}"
    "{%- set reasoning = content.split('</think>')[0].split('<think>')[-1].strip('\\n') %}"
    "{%- set content = content.split('</think>')[-1].lstrip('\\n') %}{%- endif %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}"
    "{{- '<think>\\n' + reasoning + '\\n</think>\\n\\n' + content + '<|im_end|>' }}"
    "{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}"
    "{%- endif %}"
)
TEMPLATES = {"qwen3": QWEN3_TEMPLATE}
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
TEMPLATE_FILE = "chat_template.json"


@dataclass(frozen=True)
class ChatTemplate:
    """What a served model needs to format prompts exactly as in training."""

    name: str
    template: str
    enable_thinking: bool
    stop_tokens: tuple[str, ...]
    pad_token: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.template.encode()).hexdigest()

    @classmethod
    def builtin(cls, name: Literal["qwen3"], enable_thinking: bool = False) -> "ChatTemplate":
        if name not in TEMPLATES:
            raise ConfigError(f"base_model.template = '{name}' is unknown; choose one of {', '.join(TEMPLATES)}.")
        return cls(name, TEMPLATES[name], enable_thinking, ("<|im_end|>", "<|endoftext|>"), "<|endoftext|>")

    def save(self, path: Path) -> Path:
        data = {**asdict(self), "stop_tokens": list(self.stop_tokens), "sha256": self.sha256}
        Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> "ChatTemplate":
        path = Path(path)
        if path.is_dir():
            path = path / TEMPLATE_FILE
        if not path.is_file():
            raise MedqError(f"{path}: the pinned chat template is missing; run the base_model stage first "
                            f"(inputs.template: base_model.chat_template).")
        data = json.loads(path.read_text(encoding="utf-8"))
        try:
            template = cls(data["name"], data["template"], bool(data["enable_thinking"]), tuple(data["stop_tokens"]),
                           data["pad_token"])
        except KeyError as exc:
            raise MedqError(f"{path}: not a medq chat template file (no key {exc}).") from None
        if data.get("sha256") not in (None, template.sha256):
            raise MedqError(f"{path}: template text does not match its recorded sha256; the file was edited.")
        return template

    # -- tokenizers ------------------------------------------------------------------------------------------

    def apply_to(self, tokenizer: Any) -> Any:
        """Write the template, stop and pad tokens into a tokenizer (it is saved with them)."""
        tokenizer.chat_template = self.template
        tokenizer.eos_token = self.stop_tokens[0]
        tokenizer.pad_token = self.pad_token
        missing = [t for t in (*self.stop_tokens, self.pad_token) if t not in tokenizer.get_vocab()]
        if missing:
            raise MedqError(f"the tokenizer has no token(s) {', '.join(missing)} that chat template "
                            f"'{self.name}' needs; pick a template that matches the model (base_model.template).")
        return tokenizer

    def check(self, tokenizer: Any, where: Path | str) -> None:
        """Refuse a tokenizer saved with another template: its prompts would differ from training."""
        current = getattr(tokenizer, "chat_template", None)
        if not current:
            raise MedqError(f"{where}: the tokenizer has no chat template; it must carry the pipeline's pinned "
                            f"template '{self.name}' (sha256 {self.sha256[:12]}).")
        if current != self.template:
            got = hashlib.sha256(current.encode()).hexdigest()
            raise MedqError(f"{where}: the tokenizer's chat template (sha256 {got[:12]}) differs from the pinned "
                            f"template '{self.name}' (sha256 {self.sha256[:12]}); rebuild it from the same base_model "
                            f"output.")

    def render_kwargs(self) -> dict[str, Any]:
        return {"enable_thinking": self.enable_thinking}

    def prompt_ids(self, tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
        """Token ids of the generation prompt for a conversation (the formatting serving must reproduce)."""
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                            enable_thinking=self.enable_thinking, return_dict=False)
        return list(ids)

    def stop_token_ids(self, tokenizer: Any) -> list[int]:
        return [tokenizer.convert_tokens_to_ids(t) for t in self.stop_tokens]
