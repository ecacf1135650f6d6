"""The `evaluate` stage: character-level ROUGE-L on the test split, CMMLU accuracy.

ROUGE-L asks the model through the pinned chat template, as it was trained and as it will be served. CMMLU is
scored by lm-evaluation-harness's own `cmmlu_*` tasks by default (`medq/evaluate/cmmlu.py`), so the figures
compare with published ones; `cmmlu.protocol=chat_template_zero_shot` asks each question as a chat turn instead.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from medq.errors import ConfigError, InputDataError
from medq.evaluate.cmmlu import CmmluEval, run_lm_eval_harness
from medq.evaluate.metrics import ANSWER_PREFIX, LETTERS, choose_by_loglikelihood, cmmlu_prompt, read_cmmlu_csv, rouge_l
from medq.config import as_dataclass
from medq.runner import StageContext

log = logging.getLogger(__name__)
DEFAULT_INPUTS = {"model": "merge.model", "template": "base_model.chat_template", "test": "prepare.test"}


@dataclass
class RougeEval:
    enabled: bool = True
    max_examples: int | None = 50
    max_new_tokens: int = 128
    batch_size: int = 8


class EvaluateStage:
    outputs = ("predictions", "cmmlu", "scores")

    def __init__(self, inputs: dict[str, str] | None = None, rouge: RougeEval | None = None,
                 cmmlu: CmmluEval | None = None, device: Literal["auto", "cpu", "cuda"] = "auto",
                 dtype: Literal["fp32", "bf16", "fp16"] = "fp32"):
        self.inputs = inputs or dict(DEFAULT_INPUTS)
        self.rouge = as_dataclass(RougeEval, rouge)
        self.cmmlu = as_dataclass(CmmluEval, cmmlu)
        self.device = device
        self.dtype = dtype
        for key in ("model", "template"):
            if key not in self.inputs:
                raise ConfigError(f"evaluate.inputs.{key} is missing (e.g. {key}: {DEFAULT_INPUTS[key]}).")
        if self.rouge.enabled and "test" not in self.inputs:
            raise ConfigError("evaluate.inputs.test is missing (e.g. test: prepare.test), or set "
                              "evaluate.rouge.enabled=false.")

    def external_inputs(self) -> list[Path]:
        return self.cmmlu.files()

    def run(self, ctx: StageContext) -> dict[str, str]:
        from medq.train.chat_template import ChatTemplate
        from medq.train.models import load_model, load_tokenizer
        from medq.train.trl_args import resolve_device, torch_dtype

        ctx.tracker.set_tags({"consumed": self.inputs["model"]})  # which stage's model is scored, e.g. merge.model
        template = ChatTemplate.load(ctx.inputs["template"])
        tokenizer = load_tokenizer(ctx.inputs["model"], template)
        device = resolve_device(self.device)
        model = load_model(ctx.inputs["model"], torch_dtype(self.dtype)).to(device).eval()
        metrics: dict[str, float] = {}
        artifacts: dict[str, str] = {}
        if self.rouge.enabled:
            metrics.update(self._rouge(ctx, model, tokenizer, template))
            artifacts["predictions"] = "predictions.jsonl"
        if self.cmmlu.subjects:
            if self.cmmlu.protocol == "lm_eval_harness":
                scores, rows = run_lm_eval_harness(model, tokenizer, self.cmmlu, device)
            else:
                scores, rows = self._cmmlu_chat_zero_shot(model, tokenizer, template)
            metrics.update(scores)
            with open(ctx.output_dir / "cmmlu.jsonl", "w", encoding="utf-8") as handle:
                handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
            artifacts["cmmlu"] = "cmmlu.jsonl"
        (ctx.output_dir / "scores.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        artifacts["scores"] = "scores.json"
        ctx.tracker.log_metrics(metrics)
        log.info("evaluate: %s", ", ".join(f"{k}={v:.4f}" for k, v in metrics.items()))
        return artifacts

    def _limit(self, questions: list) -> list:
        n = self.cmmlu.max_questions_per_subject
        return questions[:n] if n else questions

    def _rouge(self, ctx: StageContext, model: Any, tokenizer: Any, template: Any) -> dict[str, float]:
        import torch

        examples = []
        from medq.jsonl import read_jsonl, row_error

        for number, record in read_jsonl(ctx.inputs["test"], what="ChatML records"):
            messages = record.get("messages")
            if not messages or messages[-1].get("role") != "assistant":
                raise row_error(ctx.inputs["test"], number, "needs 'messages' ending with the reference assistant "
                                "answer.")
            examples.append((messages[:-1], messages[-1]["content"]))
        examples = examples[: self.rouge.max_examples] if self.rouge.max_examples else examples
        stop = template.stop_token_ids(tokenizer)
        predictions = []
        tokenizer.padding_side = "left"
        for start in range(0, len(examples), self.rouge.batch_size):
            batch = [template.prompt_ids(tokenizer, m) for m, _ in examples[start:start + self.rouge.batch_size]]
            padded = tokenizer.pad({"input_ids": batch}, return_tensors="pt").to(model.device)
            with torch.no_grad():
                output = model.generate(**padded, do_sample=False, max_new_tokens=self.rouge.max_new_tokens,
                                        eos_token_id=stop, pad_token_id=tokenizer.pad_token_id)
            new = output[:, padded["input_ids"].shape[1]:]
            predictions += tokenizer.batch_decode(new, skip_special_tokens=True)
        tokenizer.padding_side = "right"
        references = [r for _, r in examples]
        scores = rouge_l(predictions, references)
        with open(ctx.output_dir / "predictions.jsonl", "w", encoding="utf-8") as handle:
            for (messages, reference), prediction, score in zip(examples, predictions, scores):
                handle.write(json.dumps({"prompt": messages[-1]["content"], "reference": reference,
                                         "prediction": prediction, "rougeL_f": score}, ensure_ascii=False) + "\n")
        return {"rougeL_f": sum(scores) / len(scores) if scores else 0.0, "rouge_examples": float(len(scores))}

    def _cmmlu_chat_zero_shot(self, model: Any, tokenizer: Any, template: Any,
                              ) -> tuple[dict[str, float], list[dict[str, Any]]]:
        """Each question as one user turn in the pinned chat template, then 答案：; the likeliest letter wins."""
        letter_ids = [tokenizer.encode(letter, add_special_tokens=False) for letter in LETTERS]
        correct: dict[str, list[bool]] = defaultdict(list)
        rows = []
        for subject in self.cmmlu.subjects:
            for question in self._limit(read_cmmlu_csv(self.cmmlu.test_path(subject))):
                question.subject = subject
                prompt = template.prompt_ids(tokenizer, [{"role": "user", "content": cmmlu_prompt(question)}])
                prompt += tokenizer.encode(ANSWER_PREFIX, add_special_tokens=False)
                scores = choose_by_loglikelihood(model, prompt, letter_ids)
                choice = LETTERS[max(range(4), key=scores.__getitem__)]
                correct[subject].append(choice == question.answer)
                rows.append({"subject": subject, "where": question.where, "answer": question.answer,
                             "choice": choice, "loglik": dict(zip(LETTERS, scores))})
        name = "cmmlu_chat_zero_shot"
        every = [c for subject in correct.values() for c in subject]
        metrics = {f"{name}_acc": sum(every) / len(every) if every else 0.0, f"{name}_questions": float(len(every))}
        metrics.update({f"{name}_{s}_acc": sum(c) / len(c) for s, c in correct.items()})
        return metrics, rows
