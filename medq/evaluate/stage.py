"""The `evaluate` stage: character-level ROUGE-L on the test split, CMMLU accuracy.

ROUGE-L asks the model through the pinned chat template, as it was trained and as it will be served. CMMLU is
scored by lm-evaluation-harness's own `cmmlu_*` tasks by default (`medq/evaluate/cmmlu.py`), so the figures
compare with published ones; `cmmlu.protocol=chat_template_zero_shot` asks each question as a chat turn instead.

The model is a pipeline artifact (`inputs.model`, `inputs.template`: after merge) or, with `model` set, any folder
from outside the pipeline — base, merged, or base + adapter (`medq/evaluate/model_folder.py`; the
`evaluate_model` recipe). ROUGE's test split is `inputs.test` or the file `test`.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from medq.errors import ConfigError, MedqError
from medq.evaluate.cmmlu import CmmluEval, plot_subject_accuracy, run_lm_eval_harness
from medq.evaluate.metrics import ANSWER_PREFIX, LETTERS, choose_by_loglikelihood, cmmlu_prompt, read_cmmlu_csv, rouge_l
from medq.evaluate.model_folder import ModelFolder
from medq.config import as_dataclass
from medq.paths import ExistingDir, ExistingFile, ModelLocation
from medq.stage import StageContext

log = logging.getLogger(__name__)
DEFAULT_INPUTS = {"model": "merge.model", "template": "base_model.chat_template", "test": "prepare.test"}


@dataclass
class RougeEval:
    enabled: bool = True
    max_examples: int | None = 50
    max_new_tokens: int = 128
    batch_size: int = 8


class EvaluateStage:
    outputs = ("predictions", "cmmlu", "cmmlu_plot", "scores")
    final_outputs = outputs  # reports: no later stage needs to read them (medq/wiring.py)

    def __init__(self, inputs: dict[str, str] | None = None, rouge: RougeEval | None = None,
                 cmmlu: CmmluEval | None = None, device: Literal["auto", "cpu", "cuda"] = "auto",
                 dtype: Literal["fp32", "bf16", "fp16"] = "fp32", model: ModelLocation | None = None,
                 adapter: ExistingDir | None = None, base_model: ModelLocation | None = None,
                 template: Literal["qwen3"] | None = None, enable_thinking: bool = False,
                 test: ExistingFile | None = None):
        # a model folder from outside the pipeline reads no pipeline artifact unless inputs names one (e.g. test)
        self.inputs = dict(inputs) if inputs is not None else {} if model is not None else dict(DEFAULT_INPUTS)
        self.rouge = as_dataclass(RougeEval, rouge)
        self.cmmlu = as_dataclass(CmmluEval, cmmlu)
        self.device = device
        self.dtype = dtype
        self.template = template
        self.enable_thinking = enable_thinking
        self.test = test
        if test is not None and "test" in self.inputs:
            raise ConfigError("evaluate.test and evaluate.inputs.test both name the test split: keep one.")
        self.folder = ModelFolder.resolve(model, adapter, base_model) if model is not None else None
        if self.folder is None:
            for key, value in (("adapter", adapter), ("base_model", base_model), ("template", template)):
                if value is not None:
                    raise ConfigError(f"evaluate.{key} applies to a model folder (evaluate.model), which is not set; "
                                      f"in a pipeline the model and template are inputs.model / inputs.template.")
            for key in ("model", "template"):
                if key not in self.inputs:
                    raise ConfigError(f"evaluate.inputs.{key} is missing (e.g. {key}: {DEFAULT_INPUTS[key]}), or "
                                      f"set evaluate.model to a model folder.")
            if self.rouge.enabled and "test" not in self.inputs and test is None:
                raise ConfigError("evaluate.inputs.test is missing (e.g. test: prepare.test), or set "
                                  "evaluate.rouge.enabled=false.")
        else:
            both = sorted({"model", "template"} & set(self.inputs))
            if both:
                raise ConfigError(f"evaluate.model = {model} and evaluate.inputs.{both[0]} = "
                                  f"{self.inputs[both[0]]} both name what to evaluate: use +recipe=evaluate_model "
                                  f"(or evaluate=model_folder), or drop evaluate.model.")

    def external_inputs(self) -> list[Path]:
        outside = self.folder.folders() if self.folder is not None else []
        return [*self.cmmlu.files(), *outside, *([Path(self.test)] if self.test else [])]

    def run(self, ctx: StageContext) -> dict[str, str]:
        from medq.model.device import resolve_device, torch_dtype

        # which stage's model is scored (e.g. merge.model), or the folder given as evaluate.model
        ctx.tracker.set_tags({"consumed": self.inputs["model"] if self.folder is None else "evaluate.model"})
        device = resolve_device(self.device)
        model, tokenizer, template = self._load(ctx, torch_dtype(self.dtype))
        model = model.to(device).eval()
        metrics: dict[str, float] = {}
        artifacts: dict[str, str] = {}
        test = Path(self.test) if self.test else ctx.inputs.get("test")
        if self.rouge.enabled and test is not None:
            metrics.update(self._rouge(ctx, test, model, tokenizer, template))
            artifacts["predictions"] = "predictions.jsonl"
        if self.cmmlu.dir:
            if self.cmmlu.protocol == "lm_eval_harness":
                scores, rows = run_lm_eval_harness(model, tokenizer, self.cmmlu, device)
                group = "cmmlu"
            else:
                scores, rows = self._cmmlu_chat_zero_shot(model, tokenizer, template)
                group = "cmmlu_chat_zero_shot"
            metrics.update(scores)
            with open(ctx.output_dir / "cmmlu.jsonl", "w", encoding="utf-8") as handle:
                handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
            artifacts["cmmlu"] = "cmmlu.jsonl"
            accuracy = {s: metrics[f"{group}.{s}.acc"] for s in self.cmmlu.chosen_subjects()
                        if f"{group}.{s}.acc" in metrics}
            plot_subject_accuracy(accuracy, metrics.get(f"{group}.acc", 0.0), ctx.output_dir / "cmmlu_accuracy.png",
                                  group)
            ctx.tracker.log_artifact(ctx.output_dir / "cmmlu_accuracy.png")
            artifacts["cmmlu_plot"] = "cmmlu_accuracy.png"
        (ctx.output_dir / "scores.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        artifacts["scores"] = "scores.json"
        ctx.tracker.log_metrics(metrics)
        log.info("evaluate: %s", ", ".join(f"{k}={v:.4f}" for k, v in metrics.items()))
        return artifacts

    def _load(self, ctx: StageContext, dtype: Any) -> tuple[Any, Any, Any]:
        """(model, tokenizer, chat template): the pipeline's artifacts, or the outside folder (its tags in MLflow)."""
        from medq.model.chat_template import ChatTemplate
        from medq.model.loading import load_model, load_tokenizer

        if self.folder is None:
            template = ChatTemplate.load(ctx.inputs["template"])
            return load_model(ctx.inputs["model"], dtype), load_tokenizer(ctx.inputs["model"], template), template
        tokenizer, template = self.folder.load_tokenizer(self.template, self.enable_thinking)
        needs_template = self.rouge.enabled and (self.test or "test" in ctx.inputs) or \
            (self.cmmlu.dir and self.cmmlu.protocol == "chat_template_zero_shot")
        if template is None and needs_template:
            raise MedqError(f"{self.folder.base}: the tokenizer has no chat template, which ROUGE and the "
                            f"chat-template CMMLU protocol ask through: set evaluate.template (e.g. qwen3).")
        ctx.tracker.set_tags({"evaluate.model_folder": str(self.folder.base), "evaluate.model_form": self.folder.form,
                              "evaluate.adapter": str(self.folder.adapter or ""),
                              "evaluate.chat_template": template.name if template else "none",
                              "evaluate.chat_template_sha256": template.sha256 if template else ""})
        log.info("evaluate: %s %s%s, chat template: %s", self.folder.form, self.folder.base,
                 f" + {self.folder.adapter}" if self.folder.adapter else "", template.name if template else "none")
        return self.folder.load(dtype), tokenizer, template

    def _limit(self, questions: list) -> list:
        n = self.cmmlu.max_questions_per_subject
        return questions[:n] if n else questions

    def _rouge(self, ctx: StageContext, test: Path, model: Any, tokenizer: Any, template: Any) -> dict[str, float]:
        import torch

        examples = []
        from medq.jsonl import read_jsonl, row_error

        for number, record in read_jsonl(test, what="ChatML records"):
            messages = record.get("messages")
            if not messages or messages[-1].get("role") != "assistant":
                raise row_error(test, number, "needs 'messages' ending with the reference assistant answer.")
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
        for subject in self.cmmlu.chosen_subjects():
            path = self.cmmlu.test_path(subject)
            for doc_id, question in enumerate(self._limit(read_cmmlu_csv(path))):
                question.subject = subject
                prompt = template.prompt_ids(tokenizer, [{"role": "user", "content": cmmlu_prompt(question)}])
                prompt += tokenizer.encode(ANSWER_PREFIX, add_special_tokens=False)
                scores = choose_by_loglikelihood(model, prompt, letter_ids)
                choice = LETTERS[max(range(4), key=scores.__getitem__)]
                correct[subject].append(choice == question.answer)
                rows.append({"subject": subject, "file": path.name, "doc_id": doc_id, "where": question.where,
                             "question": question.text, "prompt": tokenizer.decode(prompt), "answer": question.answer,
                             "choice": choice, "correct": choice == question.answer,
                             "loglik": dict(zip(LETTERS, scores))})
        # pooled over questions = the size-weighted mean of the subjects, as lm-eval aggregates its group
        name = "cmmlu_chat_zero_shot"
        every = [c for subject in correct.values() for c in subject]
        metrics = {f"{name}.acc": sum(every) / len(every) if every else 0.0, f"{name}.questions": float(len(every))}
        for subject, answers in correct.items():
            metrics[f"{name}.{subject}.acc"] = sum(answers) / len(answers) if answers else 0.0
            metrics[f"{name}.{subject}.questions"] = float(len(answers))
        return metrics, rows
