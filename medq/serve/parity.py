"""`serve_parity`: the served model answers exactly as the same weights do in-process.

The field's best-known failure is a model that answers differently under vLLM than in training, usually a chat
template that drifted. For each golden prompt and each check (the merged model; base + LoRA adapter served as a
LoRA module):
1. rendering: the server's tokenisation of the conversation (vLLM's /tokenize) equals the pinned template's;
2. greedy tokens: the served greedy continuation equals in-process `generate` on the same weights in the same
   dtype, compared while the in-process top-1/top-2 logit margin is at least `min_margin` (after a near-tie either
   continuation is correct, so it is reported, not failed);
3. logprobs (vLLM): the top-1 logprob of each of the first `logprob_tokens` tokens agrees within `logprob_atol`.
A mismatch fails the stage with one line naming the prompt, the first differing token and both renderings.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medq.errors import MedqError
from medq.serve.client import ChatClient
from medq.serve.services import read_endpoint

log = logging.getLogger(__name__)
DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


@dataclass
class ParityCheck:
    """One served model against its in-process twin: `served` is a served name (null: the base model), `model`
    and `adapter` name this stage's inputs holding the reference weights (adapter: attached with PEFT, unmerged)."""

    name: str
    model: str = "model"
    adapter: str | None = None
    served: str | None = None


@dataclass
class TokenRun:
    ids: list[int]
    logprobs: list[float] = field(default_factory=list)
    margins: list[float] = field(default_factory=list)


class ServeParityStage:
    outputs = ("parity",)
    final_outputs = outputs  # a report (medq/wiring.py)

    def __init__(self, inputs: dict[str, str], checks: list[ParityCheck], prompts: list[str],
                 system_prompt: str | None = None, max_new_tokens: int = 16, min_margin: float = 1e-3,
                 logprob_tokens: int = 8, logprob_atol: float = 2e-2, dtype: str = "fp32"):
        self.inputs = dict(inputs)
        self.checks = [c if isinstance(c, ParityCheck) else ParityCheck(**c) for c in checks]
        self.prompts, self.system_prompt = list(prompts), system_prompt
        self.max_new_tokens, self.min_margin = max_new_tokens, min_margin
        self.logprob_tokens, self.logprob_atol, self.dtype = logprob_tokens, logprob_atol, dtype
        if dtype not in DTYPES:
            raise MedqError(f"serve_parity.dtype = {dtype!r}: choose one of {', '.join(DTYPES)}")

    def run(self, ctx: Any) -> dict[str, str]:
        endpoint, record = read_endpoint(ctx.inputs["endpoint"])
        report = {"endpoint": record, "checks": {}}
        failures = []
        for check in self.checks:
            result = self.check(check, ctx.inputs, endpoint, record)
            report["checks"][check.name] = result
            failures += result["mismatches"]
            ctx.tracker.log_metrics({f"{check.name}.tokens_compared": result["tokens_compared"],
                                     f"{check.name}.near_ties": len(result["near_ties"]),
                                     f"{check.name}.mismatches": len(result["mismatches"]),
                                     f"{check.name}.max_logprob_diff": result["max_logprob_diff"]})
        ctx.tracker.set_tags({"serve.backend": record["backend"], "serve.model_path": record.get("model_path") or "",
                              "serve.chat_template_sha256": record.get("chat_template_sha256") or ""})
        path = Path(ctx.output_dir) / "parity.json"
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        ctx.tracker.log_artifact(path)
        if failures:
            raise MedqError(f"serve_parity failed ({len(failures)} mismatch(es); report in MLflow run "
                            f"{getattr(ctx.tracker, 'run_id', None)}): {failures[0]}")
        return {"parity": "parity.json"}

    # -- one check ----------------------------------------------------------------------------------------------
    def check(self, check: ParityCheck, inputs: dict[str, Path], endpoint: Any, record: dict[str, Any]) -> dict[str, Any]:
        import torch

        from medq.model.chat_template import ChatTemplate
        from medq.model.loading import load_model, load_tokenizer, load_with_adapter

        template = ChatTemplate.load(inputs["template"])
        dtype = getattr(torch, DTYPES[self.dtype])
        model_dir = Path(inputs[check.model])
        model = (load_with_adapter(model_dir, Path(inputs[check.adapter]), template, dtype) if check.adapter
                 else load_model(model_dir, dtype))
        model.eval()
        tokenizer = load_tokenizer(model_dir, template)
        stop_ids = template.stop_token_ids(tokenizer)
        served = check.served or record["models"][0]
        client = ChatClient(endpoint)
        vllm = record["backend"] == "vllm"
        result: dict[str, Any] = {"served": served, "tokens_compared": 0, "near_ties": [], "mismatches": [],
                                  "max_logprob_diff": 0.0, "prompts": []}
        for number, prompt in enumerate(self.prompts):
            messages = ([{"role": "system", "content": self.system_prompt}] if self.system_prompt else []) + \
                [{"role": "user", "content": prompt}]
            label = f"prompt {number} ({prompt[:24]!r}) on {check.name} (served as '{served}')"
            prompt_ids = template.prompt_ids(tokenizer, messages)
            if vllm:
                served_prompt = self._served_rendering(record["base_url"], served, messages, template)
                if served_prompt != prompt_ids:
                    at = next((i for i, (a, b) in enumerate(zip(served_prompt, prompt_ids)) if a != b),
                              min(len(served_prompt), len(prompt_ids)))
                    result["mismatches"].append(
                        f"{label}: the server renders the prompt differently from the pinned template from token "
                        f"{at}: served {tokenizer.decode(served_prompt)!r} vs pinned {tokenizer.decode(prompt_ids)!r}")
                    continue
            reference = self._reference(model, prompt_ids, stop_ids)
            reply = client.chat(messages, model=served, temperature=0.0, max_tokens=self.max_new_tokens,
                                **({"logprobs": True, "top_logprobs": 1, "return_tokens_as_token_ids": True,
                                    "skip_special_tokens": False} if vllm else {}))
            if vllm:
                got = TokenRun([int(item["token"].split(":", 1)[1]) for item in reply.logprobs or []],
                               [float(item["logprob"]) for item in reply.logprobs or []])
                got.ids = [t for t in got.ids if t not in stop_ids] if got.ids and got.ids[-1] in stop_ids else got.ids
            else:  # no token ids from `transformers serve`: its text, re-tokenised, without a character cut in
                # half by max_tokens (it decodes to U+FFFD, which re-tokenises differently)
                text = reply.text.rstrip("\ufffd")
                got = TokenRun(tokenizer.encode(text, add_special_tokens=False))
                if reply.finish_reason == "length" or text != reply.text:
                    reference = TokenRun(reference.ids[: len(got.ids)], reference.logprobs, reference.margins)
            self._compare(label, reference, got, tokenizer, result)
            result["prompts"].append({"prompt": prompt, "in_process": tokenizer.decode(reference.ids),
                                      "served": tokenizer.decode(got.ids)})
        return result

    def _served_rendering(self, base_url: str, model: str, messages: list[dict[str, str]], template: Any) -> list[int]:
        root = base_url[: -len("/v1")] if base_url.endswith("/v1") else base_url
        body = json.dumps({"model": model, "messages": messages, "add_generation_prompt": True,
                           "add_special_tokens": False, "chat_template_kwargs": template.render_kwargs()}).encode()
        request = urllib.request.Request(f"{root}/tokenize", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return list(json.loads(response.read())["tokens"])

    def _reference(self, model: Any, prompt_ids: list[int], stop_ids: list[int]) -> TokenRun:
        import torch

        input_ids = torch.tensor([prompt_ids], device=model.device)
        with torch.no_grad():
            out = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), do_sample=False,
                                 max_new_tokens=self.max_new_tokens, eos_token_id=stop_ids, pad_token_id=stop_ids[-1],
                                 output_logits=True, return_dict_in_generate=True)
        run = TokenRun([])
        for token, logits in zip(out.sequences[0, len(prompt_ids):].tolist(), out.logits):
            logprobs = torch.log_softmax(logits[0].float(), dim=-1)
            top2 = torch.topk(logits[0].float(), 2).values
            run.ids.append(token)
            run.logprobs.append(float(logprobs[token]))
            run.margins.append(float(top2[0] - top2[1]))
        if run.ids and run.ids[-1] in stop_ids:
            run.ids, run.logprobs, run.margins = run.ids[:-1], run.logprobs[:-1], run.margins[:-1]
        return run

    def _compare(self, label: str, ref: TokenRun, got: TokenRun, tokenizer: Any, result: dict[str, Any]) -> None:
        for i in range(max(len(ref.ids), len(got.ids))):
            if i < len(ref.margins) and ref.margins[i] < self.min_margin:
                result["near_ties"].append(f"{label}: token {i} margin {ref.margins[i]:.2e}; compared up to it")
                return
            a = ref.ids[i] if i < len(ref.ids) else None
            b = got.ids[i] if i < len(got.ids) else None
            if a != b:
                show = lambda t: "end of reply" if t is None else f"{tokenizer.decode([t])!r} (id {t})"
                result["mismatches"].append(
                    f"{label}: first differing token at {i}: served {show(b)} vs in-process {show(a)}; "
                    f"served {tokenizer.decode(got.ids)!r} vs in-process {tokenizer.decode(ref.ids)!r}")
                return
            result["tokens_compared"] += 1
            if i < self.logprob_tokens and i < len(got.logprobs):
                diff = abs(got.logprobs[i] - ref.logprobs[i])
                result["max_logprob_diff"] = max(result["max_logprob_diff"], diff)
                if diff > self.logprob_atol:
                    result["mismatches"].append(
                        f"{label}: token {i} {tokenizer.decode([a])!r} has logprob {got.logprobs[i]:.4f} served vs "
                        f"{ref.logprobs[i]:.4f} in-process (logprob_atol {self.logprob_atol})")
                    return
