"""The `compare` stage: every variant (a served model × a mode) on the same suites, one table.

Setup: the variants (`compare.variants`: name, served model name, mode plain | rag | agent) and the suites
(`compare.suites`, files checked when the config is validated, so a missing file fails before any model loads,
naming its key). Run: for each variant, an MLflow child run of this stage's run; each suite asks the variant
through the model service (`serve.endpoint`: one vLLM server with the adapters as LoRA modules, or transformers
serve, or an external endpoint) and returns cells (benchmark, split, n, metric, scorer, value, 95 % interval).
Save: cells.jsonl, answers.jsonl (every scored row), comparison.md / .html / .png, judge_agreement.json; all logged
as artifacts, and the table printed at the end.

Multiple-choice log-likelihood suites (CMMLU, C-Eval) score the served weights; a rag or agent variant on the same
served model shows them as n/a, naming the variant whose cell holds the number. Judge-scored cells are "not
measured" with `judge.kind: none`.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medq.config import as_dataclass
from medq.errors import ConfigError
from medq.evaluate.judge import AGREEMENT_FILE, Judge, JudgeConfig, agreement
from medq.evaluate.report import Cell, chart, html_table, markdown_table, missing_cell
from medq.evaluate.suites import (AttributionSuite, ClinicalSafetySuite, CmbClinSuite, MultipleChoiceSuite,
                                  RougeSuite, SafetyBenchSuite, ServingSuite)
from medq.evaluate.variants import Variant, build_responder
from medq.stage import StageContext

log = logging.getLogger(__name__)
DEFAULT_INPUTS = {"endpoint": "serve.endpoint", "index": "index.index", "test": "prepare.test"}


@dataclass
class CompareSuites:
    cmmlu: MultipleChoiceSuite = field(default_factory=lambda: MultipleChoiceSuite(family="cmmlu"))
    ceval: MultipleChoiceSuite = field(default_factory=lambda: MultipleChoiceSuite(family="ceval-valid"))
    safetybench: SafetyBenchSuite = field(default_factory=SafetyBenchSuite)
    clinical_safety: ClinicalSafetySuite = field(default_factory=ClinicalSafetySuite)
    attribution: AttributionSuite = field(default_factory=AttributionSuite)
    cmb_clin: CmbClinSuite = field(default_factory=CmbClinSuite)
    rouge: RougeSuite = field(default_factory=RougeSuite)
    serving: ServingSuite = field(default_factory=ServingSuite)

    def validate(self) -> None:
        """Every enabled suite's files exist (run by medq/config.py before any stage starts)."""
        self.files()

    def files(self) -> list[Path]:
        paths: list[Path] = []
        for key in ("cmmlu", "ceval", "safetybench", "clinical_safety", "cmb_clin"):
            paths += getattr(self, key).files(key)
        return paths


class CompareStage:
    outputs = ("cells", "answers", "table", "html", "chart")
    final_outputs = outputs   # reports

    def __init__(self, variants: list[Variant], suites: CompareSuites | None = None,
                 inputs: dict[str, str] | None = None, judge: JudgeConfig | None = None, agent: Any | None = None,
                 retrieve: Any | None = None, max_tokens: int = 128, tokenizer: str | None = None,
                 mc_max_length: int = 2048, endpoint_overrides: dict[str, Any] | None = None,
                 title: str = "medq comparison", parallel: int = 1):
        self.variants = [as_dataclass(Variant, v) for v in variants]
        if len(self.variants) < 1:
            raise ConfigError("compare.variants is empty: list at least one {name, model, mode}")
        names = [v.name for v in self.variants]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"compare.variants: duplicate name(s) {', '.join(duplicates)}")
        self.suites = as_dataclass(CompareSuites, suites)
        self.inputs = dict(inputs if inputs is not None else DEFAULT_INPUTS)
        for variant in self.variants:
            if variant.endpoint not in self.inputs:
                raise ConfigError(f"compare.variants: '{variant.name}' is served by '{variant.endpoint}', which is "
                                  f"not in compare.inputs (e.g. {variant.endpoint}: serve.endpoint)")
        self.judge = as_dataclass(JudgeConfig, judge)
        self.agent, self.retrieve = agent, retrieve
        self.max_tokens = max_tokens
        self.tokenizer = tokenizer
        self.mc_max_length = mc_max_length
        self.endpoint_overrides = dict(endpoint_overrides or {})
        self.title = title
        self.parallel = parallel

    def external_inputs(self) -> list[Path]:
        agreement_file = [Path(str(self.judge.agreement_file))] if self.judge.agreement_file else []
        return [*self.suites.files(), *agreement_file]

    # -- run ---------------------------------------------------------------------------------------------------
    def run(self, ctx: StageContext) -> dict[str, str]:
        from medq.agent.auditor import ContraindicationAuditor
        from medq.agent.knowledge import Lexicon

        judge = Judge(self.judge) if self.judge.enabled() else None
        auditor = ContraindicationAuditor(Lexicon.load(None))
        ctx.tracker.set_tags({"compare.variants": ", ".join(v.name for v in self.variants),
                              "compare.judge": judge.config.endpoint.model if judge else "none",
                              **({f"compare.rubric.{k}": v for k, v in judge.versions().items()} if judge else {})})
        answers = _LockedWriter(ctx.output_dir / "answers.jsonl")
        try:
            # log-likelihood suites first, one variant at a time: vLLM 0.32's CPU build crashed its engine when a
            # prompt-logprobs request shared a batch with LoRA generation (einsum shape error in compute_logits)
            scored = {v.name: self._multiple_choice(ctx, v, answers) for v in self.variants}
            # then the generation suites: each (variant, group of suites) is a task with its own responder (an
            # agent variant: its own agent and memory store), run `parallel` at a time so the server batches
            # them; the table's order is the config's either way
            from concurrent.futures import ThreadPoolExecutor

            tasks = [(v, group) for v in self.variants for group in self._groups()]
            with ThreadPoolExecutor(max_workers=max(1, self.parallel)) as pool:
                done = list(pool.map(lambda task: self._generation(ctx, *task, judge, auditor, answers), tasks))
            # latency last, one variant at a time on an otherwise idle server: measured beside other variants'
            # requests, TTFT and inter-token latency would say more about the neighbours than about the variant
            if self.suites.serving.enabled:
                for variant in self.variants:
                    tasks.append((variant, ("serving",)))
                    done.append(self._generation(ctx, variant, ("serving",), judge, auditor, answers))
        finally:
            answers.close()
        cells: list[Cell] = []
        for variant in self.variants:
            mine = scored[variant.name] + [c for (v, _), found in zip(tasks, done) if v is variant for c in found]
            with ctx.tracker.child_run(variant.name, {"model": variant.model, "mode": variant.mode,
                                                      "description": variant.description}) as child:
                child.log_metrics({c.key: c.value for c in mine if c.status == "measured" and c.value is not None})
                child.log_params({f"{c.key}.n": c.n for c in mine})
                child.set_tags({f"{c.key}.described": _tag(c) for c in mine})
            cells += mine
        if judge is not None:
            cells_file = Path(str(self.judge.agreement_file)) if self.judge.agreement_file else AGREEMENT_FILE
            check = agreement(judge, cells_file)
            (ctx.output_dir / "judge_agreement.json").write_text(json.dumps(check, ensure_ascii=False, indent=2) +
                                                                 "\n", encoding="utf-8")
            ctx.tracker.log_metrics({"judge.agreement": check["agreement"] or 0.0,
                                     "judge.unparseable": float(check["unparseable"])})
            ctx.tracker.log_artifact(ctx.output_dir / "judge_agreement.json")
            log.info("compare: judge agreement with labels %.3f over %d pairs (%d unparseable verdicts)",
                     check["agreement"] or 0.0, check["pairs"], check["unparseable"])
        return self._save(ctx, cells)

    def _groups(self) -> list[tuple[str, ...]]:
        """Generation suites in groups that can run side by side (serving runs alone, after them); ROUGE-L and
        attribution share one responder, so they score the same answers."""
        s = self.suites
        groups = [(key,) for key in ("safetybench", "clinical_safety", "cmb_clin") if getattr(s, key).enabled]
        test_split = tuple(key for key in ("rouge", "attribution") if getattr(s, key).enabled)
        return groups + ([test_split] if test_split else [])

    def _generation(self, ctx: StageContext, variant: Variant, group: tuple[str, ...], judge: Any, auditor: Any,
                    answers: Any) -> list[Cell]:
        endpoint_file = Path(ctx.inputs[variant.endpoint])
        index = ctx.inputs.get("index")
        test = ctx.inputs.get("test")
        if test is None and set(group) & {"rouge", "attribution", "serving"}:
            raise ConfigError(f"compare.suites.{group[0]} reads the prepared test split: set compare.inputs.test "
                              f"(e.g. prepare.test) or compare.suites.{group[0]}.enabled=false")
        workdir = ctx.output_dir / "work" / f"{variant.name.replace('+', '_')}.{group[0]}"
        workdir.mkdir(parents=True, exist_ok=True)
        responder = build_responder(variant, endpoint_file, self.max_tokens, Path(index) if index else None,
                                    self.retrieve, self.agent, workdir, self.endpoint_overrides)
        log.info("compare: %s (%s, %s) on %s", variant.name, variant.model, variant.mode, ", ".join(group))
        s = self.suites
        cells: list[Cell] = []
        try:
            for key in group:
                if key == "safetybench":
                    new, rows = s.safetybench.run(key, responder, variant.name)
                elif key == "clinical_safety":
                    new, rows = s.clinical_safety.run(key, responder, variant.name, judge, auditor)
                elif key == "cmb_clin":
                    new, rows = s.cmb_clin.run(key, responder, variant.name, judge)
                elif key == "rouge":
                    new, rows = s.rouge.run(key, responder, variant.name, Path(test))
                elif key == "attribution":
                    new, rows = s.attribution.run(key, responder, variant.name, variant.mode, Path(test), judge)
                else:
                    new, rows = s.serving.run(key, responder, variant.name, variant.mode, Path(test))
                cells += new
                answers.writelines(json.dumps({"suite": key, **row}, ensure_ascii=False, default=str) + "\n"
                                   for row in rows)
        finally:
            responder.close()
        return cells

    def _multiple_choice(self, ctx: StageContext, variant: Variant, answers: Any) -> list[Cell]:
        """CMMLU and C-Eval: log-likelihoods of the served weights (plain variants; rag/agent cells say n/a)."""
        cells: list[Cell] = []
        for key in ("cmmlu", "ceval"):
            suite: MultipleChoiceSuite = getattr(self.suites, key)
            if not suite.enabled:
                continue
            if variant.mode != "plain":
                owner = next((v.name for v in self.variants if v.model == variant.model and v.mode == "plain"
                              and v.endpoint == variant.endpoint), None)
                note = (f"a log-likelihood score of the served weights: mode {variant.mode} does not change it"
                        + (f" (see {owner})" if owner else ""))
                for metric in ("acc", "acc_norm"):
                    cells.append(missing_cell("n/a", note, variant=variant.name, suite=key, metric=metric,
                                              benchmark=suite.benchmark or suite.family, split="", scorer="lm-eval"))
                continue
            log.info("compare: %s on %s (lm-eval)", variant.name, key)
            new, rows = suite.run(key, self._lm(variant, Path(ctx.inputs[variant.endpoint])), variant.name,
                                  variant.model, ctx.output_dir / "lm_eval_data")
            cells += new
            answers.writelines(json.dumps({"suite": key, **row}, ensure_ascii=False) + "\n" for row in rows)
        return cells

    def _lm(self, variant: Variant, endpoint_file: Path) -> Any:
        """lm-eval's own OpenAI-completions model on the served model: log-likelihoods from the server's
        prompt logprobs (vLLM: echo + logprobs), tokenised with the served model's tokenizer."""
        from lm_eval.models.openai_completions import LocalCompletionsAPI

        record = json.loads(endpoint_file.read_text(encoding="utf-8"))
        tokenizer = self.tokenizer or record.get("model_path")
        if not tokenizer:
            raise ConfigError("compare.tokenizer must be set: the served model's tokenizer folder (the endpoint "
                              "does not name a local model folder)")
        return LocalCompletionsAPI(base_url=record["base_url"].rstrip("/") + "/completions", model=variant.model,
                                   tokenizer=str(tokenizer), tokenizer_backend="huggingface",
                                   max_length=self.mc_max_length, num_concurrent=1, max_retries=2)

    # -- save --------------------------------------------------------------------------------------------------
    def _save(self, ctx: StageContext, cells: list[Cell]) -> dict[str, str]:
        out = ctx.output_dir
        with open(out / "cells.jsonl", "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(c.as_dict(), ensure_ascii=False) + "\n" for c in cells)
        table = markdown_table(cells, self.title)
        (out / "comparison.md").write_text(table, encoding="utf-8")
        (out / "comparison.html").write_text(html_table(cells, self.title), encoding="utf-8")
        chart(cells, out / "comparison.png", self.title)
        for name in ("cells.jsonl", "comparison.md", "comparison.html", "comparison.png", "answers.jsonl"):
            ctx.tracker.log_artifact(out / name)
        measured = [c for c in cells if c.status == "measured"]
        ctx.tracker.log_metrics({"variants": float(len(self.variants)), "cells_measured": float(len(measured)),
                                 "cells_not_measured": float(len(cells) - len(measured))})
        return {"cells": "cells.jsonl", "answers": "answers.jsonl", "table": "comparison.md",
                "html": "comparison.html", "chart": "comparison.png"}


    def after_publish(self, ctx: StageContext, output_dir: Path) -> None:
        """Print the table and where it lives once it is published (the runner then prints the `mlflow ui` line)."""
        table = (Path(output_dir) / "comparison.md").read_text(encoding="utf-8")
        print(f"\n{table}\nmedq compare: {Path(output_dir) / 'comparison.md'} (also comparison.html, comparison.png, "
              f"cells.jsonl, answers.jsonl); in MLflow: the '{ctx.stage}' run, one child run per variant", flush=True)


class _LockedWriter:
    """answers.jsonl, written by the variants' threads one line batch at a time."""

    def __init__(self, path: Path):
        import threading

        self._handle = open(path, "w", encoding="utf-8")
        self._lock = threading.Lock()

    def writelines(self, lines: Any) -> None:
        lines = list(lines)
        with self._lock:
            self._handle.writelines(lines)

    def close(self) -> None:
        self._handle.close()


def _tag(cell: Cell) -> str:
    from medq.evaluate.report import describe

    return re.sub(r"\s+", " ", describe(cell))[:4000]
