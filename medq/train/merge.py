"""The `merge` stage: adapter merged into its full-precision base, saved as sharded safetensors, parity-checked.

setup: template, base (refused if quantized), adapter (refused if trained on another base or template).
run: golden prompts through base+adapter (unmerged) -> logits and greedy outputs; `merge_and_unload`; save;
reload the saved folder the way a server would and run the same prompts. The check fails the stage when the
largest logit difference exceeds `parity.logits_atol` or any greedy output differs.
save: the merged model with the pinned template and `parity.json`. after_publish (once the runner has published the
folder): optionally a Model Registry version with lineage, pointing at the published, pinned version folder.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from medq.artifacts import pin_version
from medq.errors import ConfigError, MedqError
from medq.config import as_dataclass
from medq.stage import StageContext, require_inputs
from medq.model.chat_template import ChatTemplate
from medq.model.loading import ADAPTER_FILE, load_model, load_tokenizer, load_with_adapter, save_model, weights_source
from medq.model.device import resolve_device, torch_dtype

log = logging.getLogger(__name__)
DEFAULT_INPUTS = {"model": "base_model.model", "adapter": "dpo.adapter", "template": "base_model.chat_template"}
GOLDEN_PROMPTS = ["我最近总是头痛，晚上睡不好，需要做什么检查？", "孩子发烧38.5度，应该怎么处理？",
                  "高血压患者平时饮食要注意什么？"]


@dataclass
class Parity:
    prompts: list[str] = field(default_factory=lambda: list(GOLDEN_PROMPTS))
    logits_atol: float = 1e-3        # fp32 merges agree to ~1e-6; bf16 needs ~5e-2
    max_new_tokens: int = 16


@dataclass
class Registry:
    enabled: bool = True
    name: str = "medq-merged"
    log_model_files: bool = True     # copy the merged weights into the MLflow run (off for 8B/32B: they stay local)


class MergeStage:
    outputs = ("model", "parity")
    final_outputs = ("model", "parity")  # the merged model is a result (registered), no later stage needed

    def __init__(self, inputs: dict[str, str] | None = None, dtype: Literal["fp32", "bf16", "fp16"] = "fp32",
                 max_shard_size: str = "2GB", parity: Parity | None = None, registry: Registry | None = None,
                 system_prompt: str | None = None, device: Literal["auto", "cpu", "cuda"] = "auto"):
        self.inputs = inputs or dict(DEFAULT_INPUTS)
        self.dtype = dtype
        self.max_shard_size = max_shard_size
        self.parity = as_dataclass(Parity, parity)
        self.registry = as_dataclass(Registry, registry)
        self.system_prompt = system_prompt
        self.device = device
        require_inputs("merge", self.inputs, DEFAULT_INPUTS, "model", "adapter", "template")
        if not self.parity.prompts:
            raise ConfigError("merge.parity.prompts must list at least one golden prompt.")

    def run(self, ctx: StageContext) -> dict[str, str]:
        template = ChatTemplate.load(ctx.inputs["template"])
        tokenizer = load_tokenizer(ctx.inputs["model"], template)
        dtype = torch_dtype(self.dtype)
        device = resolve_device(self.device)
        unmerged = load_with_adapter(ctx.inputs["model"], ctx.inputs["adapter"], template, dtype).to(device).eval()
        prompts = [self._prompt_ids(template, tokenizer, p) for p in self.parity.prompts]
        before = probe(unmerged, prompts, template.stop_token_ids(tokenizer), self.parity.max_new_tokens)

        merged = unmerged.merge_and_unload()
        out = ctx.output_dir / "model"
        save_model(merged, tokenizer, template, out, self.max_shard_size)
        del merged, unmerged
        reloaded = load_model(out, dtype).to(device).eval()
        load_tokenizer(out, template)  # the saved tokenizer carries the pinned template
        after = probe(reloaded, prompts, template.stop_token_ids(tokenizer), self.parity.max_new_tokens)

        max_diff = max(float((a - b).abs().max()) for a, b in zip(before["logits"], after["logits"]))
        same_greedy = [a == b for a, b in zip(before["greedy"], after["greedy"])]
        report = {"max_abs_logit_diff": max_diff, "logits_atol": self.parity.logits_atol,
                  "greedy_identical": all(same_greedy), "prompts": self.parity.prompts,
                  "greedy_unmerged": [tokenizer.decode(g) for g in before["greedy"]],
                  "greedy_merged": [tokenizer.decode(g) for g in after["greedy"]],
                  "passed": max_diff <= self.parity.logits_atol and all(same_greedy)}
        (ctx.output_dir / "parity.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n",
                                                    encoding="utf-8")
        ctx.tracker.log_artifact(ctx.output_dir / "parity.json")
        ctx.tracker.log_metrics({"parity_max_abs_logit_diff": max_diff, "parity_passed": float(report["passed"]),
                                 "parity_greedy_identical": float(all(same_greedy))})
        if not report["passed"]:
            raise MedqError(f"merge parity check failed: max |logit diff| {max_diff:.3g} (tolerance "
                            f"{self.parity.logits_atol:g}), greedy outputs identical for "
                            f"{sum(same_greedy)}/{len(same_greedy)} prompts; see {ctx.output_dir / 'parity.json'}.")
        log.info("merge: parity passed (max |logit diff| %.3g, greedy identical)", max_diff)
        lineage = self._lineage(ctx)
        ctx.tracker.set_tags({**lineage, "consumed": self.inputs["adapter"],
                              "consumed_run_id": lineage.get("lineage.consumed_run_id", "")})
        return {"model": "model", "parity": "parity.json"}

    def after_publish(self, ctx: StageContext, output_dir: Path) -> None:
        """Register the merged model once the runner has published it: the registry gets the real, immutable path."""
        if self.registry.enabled and ctx.tracker.run_id:
            self._register(ctx, Path(output_dir) / "model", self._lineage(ctx))

    def _prompt_ids(self, template: ChatTemplate, tokenizer: Any, prompt: str) -> list[int]:
        messages = ([{"role": "system", "content": self.system_prompt}] if self.system_prompt else []) + \
            [{"role": "user", "content": prompt}]
        return template.prompt_ids(tokenizer, messages)

    def _lineage(self, ctx: StageContext) -> dict[str, str]:
        card = json.loads((ctx.inputs["adapter"] / ADAPTER_FILE).read_text(encoding="utf-8"))
        sft = card.get("sft") or (card if card.get("stage") == "sft" else {})
        dpo = card if card.get("stage") == "dpo" else {}
        base = sft.get("base_weights") or card.get("base_weights")
        return {k: str(v) for k, v in {
            # which training stage's adapter this is (the last one, e.g. dpo.adapter) and that stage's run
            "lineage.consumed": self.inputs["adapter"], "lineage.consumed_run_id": card.get("mlflow_run_id"),
            "lineage.base_model": base, "lineage.merged_into": weights_source(ctx.inputs["model"]),
            "lineage.sft_run_id": sft.get("mlflow_run_id"), "lineage.dpo_run_id": dpo.get("mlflow_run_id"),
            "lineage.reference_model": dpo.get("reference_model"),
            "lineage.train_data_sha256": sft.get("train_data_sha256"),
            "lineage.preference_data_sha256": dpo.get("pairs_sha256"),
            "lineage.chat_template_sha256": card.get("template_sha256"),
        }.items() if v}

    def _register(self, ctx: StageContext, out: Path, lineage: dict[str, str]) -> None:
        import mlflow

        client = mlflow.MlflowClient()
        run = client.get_run(ctx.tracker.run_id)
        if self.registry.log_model_files:
            ctx.tracker.log_artifact(out, "merged_model")
            source = f"{run.info.artifact_uri}/merged_model"
        else:
            # the version folder behind the published link: pinned, so a later force=true rerun of the stage
            # publishes a new version beside it instead of deleting what the registry points at
            version = pin_version(out.parent, f"MLflow registry {self.registry.name}, run {ctx.tracker.run_id}")
            source = (version / out.name).as_uri()
        try:
            client.get_registered_model(self.registry.name)
        except mlflow.exceptions.MlflowException:
            client.create_registered_model(self.registry.name, description="medq merged models (merge stage)")
        version = client.create_model_version(self.registry.name, source, run_id=ctx.tracker.run_id, tags=lineage)
        ctx.tracker.set_tags({"registered_model": f"{self.registry.name}/{version.version}"})
        log.info("merge: registered %s version %s", self.registry.name, version.version)


def probe(model: Any, prompts: list[list[int]], stop_ids: list[int], max_new_tokens: int) -> dict[str, list]:
    """Next-token logits after each prompt and its greedy continuation (no sampling, batch of one)."""
    import torch

    logits, greedy = [], []
    with torch.no_grad():
        for ids in prompts:
            input_ids = torch.tensor([ids], device=model.device)
            logits.append(model(input_ids=input_ids).logits[0].float().cpu())
            output = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), do_sample=False,
                                    max_new_tokens=max_new_tokens, eos_token_id=stop_ids, pad_token_id=stop_ids[-1])
            greedy.append(output[0, len(ids):].tolist())
    return {"logits": logits, "greedy": greedy}
