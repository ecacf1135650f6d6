"""The `base_model` stage: which weights are the base and the pinned chat template.

`base_model` fixes two things for the whole pipeline: which weights are the base (a tiny model built here, or a
local path / hub id for Qwen3-8B/32B) and the pinned chat template. Its `model` artifact is a folder with the
tokenizer (carrying the template) and either the weights (tiny) or `medq_model.json` pointing at them, so a
32B checkpoint is never copied into the artifact store. How later stages load it: medq/model/loading.py.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Literal

from medq.config import as_dataclass
from medq.errors import ConfigError
from medq.model.chat_template import TEMPLATE_FILE, ChatTemplate
from medq.model.loading import POINTER_FILE, architecture_fingerprint
from medq.model.tiny import TinyQwen3, build_model, conversation_texts, pretrain, train_tokenizer
from medq.paths import ModelLocation
from medq.stage import StageContext

log = logging.getLogger(__name__)


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
                              "e.g. base_model=qwen3_8b base_model.name_or_path=/models/Qwen3-8B).")
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
