"""The model-free half of agent evaluation: the contraindication auditor over auditor cases and the rule-based
extractor over memory cases (recipe `audit_eval`; config group `agent_eval`, option `audit`).

Metrics (logged to MLflow, and to the pipeline's parent run as `agent_eval.<name>`):
  audit.intercept_rate    drafts blocked / drafts expected to be blocked
  audit.false_alarm_rate  drafts blocked / drafts expected to pass
  audit.<category>.intercept_rate / .false_alarm_rate   per case `category`, when the cases carry one
  audit.findings_unreviewed   findings that rest on a knowledge row nobody has reviewed (`reviewed_by` empty)
  memory.precision/recall/f1   over (kind, value) items, micro-averaged over the memory cases
Each case's verdict and reasons go to audit_verdicts.jsonl and memory_verdicts.jsonl, misses included.
Case formats are documented in docs/agent.md; a bad line fails with file:line.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medq.agent.auditor import ContraindicationAuditor
from medq.agent.extraction import RuleBasedExtractor
from medq.agent.facts import PROFILE_KEYS, SCALAR_TYPES, PatientProfile, merge_facts, settled_sex
from medq.agent.knowledge import COLUMNS, DEFAULT_DIR, Lexicon
from medq.agent.auditor import CKD_TEXT
from medq.agent.rules.base import OCCUPATIONS, occupation_matches
from medq.agent.scope import TABLE as CONTEXT_TABLE
from medq.agent.text import REGIONAL_TABLE
from medq.agent.text import to_simplified
from medq.artifacts import atomic_path, write_json_atomic
from medq.errors import InputDataError
from medq.jsonl import read_jsonl, row_error
from medq.paths import ExistingDir, ExistingFile
from medq.stage import StageContext

log = logging.getLogger(__name__)
CASES_DIR = Path(__file__).resolve().parent / "cases"
LIST_KEYS = ("allergies", "conditions", "medications")


@dataclass
class AuditCase:
    id: str
    profile: dict[str, Any]
    question: str
    draft: str
    expected: str
    category: str = ""


@dataclass
class MemoryCase:
    id: str
    utterance: str
    expected: dict[str, Any]
    history: list[str] = field(default_factory=list)   # the same patient's earlier messages, read first
    category: str = ""


def _check_profile(path: Path, line_no: int, profile: Any, field: str) -> None:
    if not isinstance(profile, dict):
        raise row_error(path, line_no, f"{field} must be an object")
    for key, value in profile.items():
        if key not in PROFILE_KEYS:
            raise row_error(path, line_no, f"{field}.{key}: unknown key (valid: {', '.join(PROFILE_KEYS)})")
        if key in LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise row_error(path, line_no, f"{field}.{key} must be a list of non-empty strings")
        elif not isinstance(value, SCALAR_TYPES[key]) or (SCALAR_TYPES[key] is not bool and isinstance(value, bool)):
            types = SCALAR_TYPES[key]
            expected_type = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
            raise row_error(path, line_no, f"{field}.{key} must be {expected_type}")


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    records = list(read_jsonl(path, what="cases"))
    if not records:
        raise InputDataError(f"{path}: no cases")
    return records


def read_audit_cases(path: Path) -> list[AuditCase]:
    cases, ids = [], set()
    for line_no, record in _read_jsonl(path):
        for key in ("id", "draft", "expected"):
            if not isinstance(record.get(key), str) or not record[key]:
                raise row_error(path, line_no, f"{key} must be a non-empty string")
        if record["expected"] not in ("block", "pass"):
            raise row_error(path, line_no, f"expected must be \"block\" or \"pass\", got "
                                 f"{record['expected']!r}")
        unknown = set(record) - {"id", "profile", "question", "draft", "expected", "category"}
        if unknown:
            raise row_error(path, line_no, f"unknown key(s) {sorted(unknown)}")
        _check_profile(path, line_no, record.get("profile", {}), "profile")
        if record["id"] in ids:
            raise row_error(path, line_no, f"duplicate id {record['id']!r}")
        ids.add(record["id"])
        if not isinstance(record.get("category", ""), str):
            raise row_error(path, line_no, "category must be a string")
        cases.append(AuditCase(record["id"], record.get("profile", {}), str(record.get("question", "")),
                               record["draft"], record["expected"], record.get("category", "")))
    return cases


def read_memory_cases(path: Path) -> list[MemoryCase]:
    cases, ids = [], set()
    for line_no, record in _read_jsonl(path):
        for key in ("id", "utterance"):
            if not isinstance(record.get(key), str) or not record[key]:
                raise row_error(path, line_no, f"{key} must be a non-empty string")
        unknown = set(record) - {"id", "utterance", "expected", "history", "category"}
        if unknown:
            raise row_error(path, line_no, f"unknown key(s) {sorted(unknown)}")
        history = record.get("history", [])
        if not isinstance(history, list) or not all(isinstance(h, str) and h for h in history):
            raise row_error(path, line_no, "history must be a list of non-empty strings")
        _check_profile(path, line_no, record.get("expected"), "expected")
        if record["id"] in ids:
            raise row_error(path, line_no, f"duplicate id {record['id']!r}")
        ids.add(record["id"])
        if not isinstance(record.get("category", ""), str):
            raise row_error(path, line_no, "category must be a string")
        cases.append(MemoryCase(record["id"], record["utterance"], record["expected"], history,
                                record.get("category", "")))
    return cases


def profile_items(lexicon: Lexicon, profile: dict[str, Any]) -> set[tuple[str, Any]]:
    """(key, value) items of a case profile, names normalised through the lexicon (青霉素 = 青霉素类)."""
    kinds = {"allergies": ("drug", "class", "product", "substance"), "conditions": ("condition",),
             "medications": ("drug", "product", "class")}
    items: set[tuple[str, Any]] = set()
    for key, value in profile.items():
        if value is None:
            continue
        # a case written in traditional script (貨車司機, 慢性腎臟病3期) is compared in the form the agent reads
        value = to_simplified(value) if isinstance(value, str) else \
            [to_simplified(v) if isinstance(v, str) else v for v in value] if isinstance(value, list) else value
        if key == "conditions":
            items |= {(key, _condition(lexicon, v)) for v in value}
        elif key in LIST_KEYS:
            items |= {(key, _single(lexicon, lexicon.canonical(v, kinds[key]) or _formless(lexicon, v, kinds[key])))
                      for v in value}
        elif key == "occupation" and isinstance(value, str):
            items.add((key, _occupation(value)))
        else:
            items.add((key, value))
    return items


def _condition(lexicon: Lexicon, value: str) -> str:
    """A condition name as the knowledge base knows it; a stage suffix names the base condition (慢性肾脏病3期,
    CKD3期 → 慢性肾脏病: the stage is its own key, ckd_stage)."""
    canonical = lexicon.canonical(value, ("condition",))
    if canonical is None and CKD_TEXT.search(value):
        canonical = "慢性肾脏病"
    return canonical or value


def _occupation(value: str) -> str:
    """Occupations compared by what the auditor reads from them (驾驶, 高空作业, 操作机械), else as written."""
    found = [category for category in OCCUPATIONS if occupation_matches(value, category)]
    return found[0] if len(found) == 1 else value


def _more_specific(lexicon: Lexicon, predicted: set[tuple[str, Any]], expected: set[tuple[str, Any]]
                   ) -> set[tuple[str, Any]]:
    """A predicted condition below an expected one (心房颤动 for 心律失常) counts as the expected one: the case named
    the broader condition; the extractor is not wrong to be more specific."""
    wanted = {v for k, v in expected if k == "conditions"}
    out = set()
    for key, value in predicted:
        if key == "conditions" and value not in wanted:
            above = lexicon.condition_ancestors(value) & wanted
            if len(above) == 1:
                value = next(iter(above))
        out.add((key, value))
    return out


def _single(lexicon: Lexicon, name: str) -> str:
    """A single-ingredient product counts as its substance (硝苯地平控释片 = 硝苯地平) on both sides of the comparison, and
    so does a combination product named after the combination's own generic (多巴丝肼片（美多芭） = 多巴丝肼,
    屈螺酮炔雌醇片 = 屈螺酮炔雌醇)."""
    product = lexicon.products.get(name)
    if product is None:
        return name
    if len(product.ingredients) == 1:
        return product.ingredients[0].substance
    generic = PRODUCT_FORM.sub("", BRAND_GLOSS.sub("", name))
    return generic if generic != name and generic in lexicon.substances else name


def _formless(lexicon: Lexicon, name: str, kinds: tuple[str, ...]) -> str:
    """A name the knowledge does not know that is a known name plus a dosage form (克林霉素凝胶, 糠酸莫米松鼻喷雾剂,
    盐酸羟考酮缓释片) counts as the known name; anything else is compared as written."""
    bare = ANY_FORM.sub("", name)
    return (lexicon.canonical(bare, kinds) or name) if bare != name and len(bare) >= 2 else name


ANY_FORM = re.compile(r"(?:鼻喷雾剂|喷雾剂|气雾剂|粉雾剂|滴眼液|眼药水|滴耳液|凝胶|乳膏|软膏|缓释片|控释片|肠溶片|分散片|舌下片|片|"
                      r"缓释胶囊|肠溶胶囊|软胶囊|胶囊|颗粒|口服液|注射液|针剂|贴片|贴剂|口香糖|栓)$")
BRAND_GLOSS = re.compile(r"（[^（）]*）|\([^()]*\)")
PRODUCT_FORM = re.compile(r"(?:缓释|控释|肠溶|分散|咀嚼)?(?:片|胶囊|颗粒|丸|口服液|注射液|吸入粉雾剂|吸入气雾剂|气雾剂|粉雾剂|喷雾剂)$")


def predicted_items(lexicon: Lexicon, profile: PatientProfile) -> set[tuple[str, Any]]:
    as_case = {"allergies": profile.allergies, "conditions": profile.conditions,
               "medications": profile.medications, "pregnant": profile.pregnant,
               "lactating": profile.lactating, "age": profile.age, "sex": profile.sex,
               "weight_kg": profile.weight_kg, "egfr": profile.egfr, "ckd_stage": profile.ckd_stage,
               "trimester": profile.trimester, "occupation": profile.occupation}
    return profile_items(lexicon, as_case)


def _sex_scored_once(expected: set[tuple[str, Any]], predicted: set[tuple[str, Any]]
                     ) -> tuple[set[tuple[str, Any]], set[tuple[str, Any]]]:
    """A sex that the case's other expected items settle (a pregnancy, breastfeeding or trimester: female; a prostate
    condition: male) is scored once, through those items, on both sides: case authors differ on listing it
    (CASE_FORMAT.md lets them choose) and the profile fills it in (facts.settled_sex). Any other sex is scored as it
    is, a wrong one included."""
    settled = settled_sex([v for k, v in expected if k == "conditions"],
                          any(k in ("pregnant", "lactating", "trimester") for k, _ in expected),
                          next((v for k, v in expected if k == "age"), None))
    drop = {("sex", settled)} if settled else set()
    return expected - drop, predicted - drop


def _rate(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


class AuditEvalStage:
    """Scores the auditor and the rule-based extractor against case files; needs no model."""
    outputs = ("audit_verdicts", "memory_verdicts", "metrics")
    final_outputs = outputs  # reports (medq/wiring.py)

    def __init__(self, audit_cases: ExistingFile | None = None, memory_cases: ExistingFile | None = None,
                 knowledge_dir: ExistingDir | None = None, auditor: dict[str, Any] | None = None):
        self.audit_cases = Path(audit_cases) if audit_cases else CASES_DIR / "audit_cases.jsonl"
        self.memory_cases = Path(memory_cases) if memory_cases else CASES_DIR / "memory_cases.jsonl"
        self.knowledge_dir = Path(knowledge_dir) if knowledge_dir else DEFAULT_DIR
        self.rules = list((auditor or {}).get("rules") or []) or None   # null: conf/agent/auditor/default.yaml

    def external_inputs(self) -> list[Path]:
        # hashed into the cache key before run(): a missing file must be a clear error here, not a traceback
        for key, path in (("agent_eval.audit_cases", self.audit_cases), ("agent_eval.memory_cases", self.memory_cases)):
            if not path.is_file():
                raise InputDataError(f"{path}: case file not found ({key})")
        if not self.knowledge_dir.is_dir():
            raise InputDataError(f"{self.knowledge_dir}: knowledge folder not found (agent_eval.knowledge_dir)")
        folders = [DEFAULT_DIR] + ([self.knowledge_dir] if self.knowledge_dir.resolve() != DEFAULT_DIR.resolve()
                                   else [])
        return [self.audit_cases, self.memory_cases] + [folder / name for folder in folders for name in COLUMNS
                                                        if (folder / name).is_file()] + [CONTEXT_TABLE, REGIONAL_TABLE]

    def run(self, ctx: StageContext) -> dict[str, str]:
        lexicon = Lexicon.load(self.knowledge_dir)
        audit_cases = read_audit_cases(self.audit_cases)
        memory_cases = read_memory_cases(self.memory_cases)
        audit_metrics = self.evaluate_audit(lexicon, audit_cases, ctx.output_dir / "audit_verdicts.jsonl",
                                            rules=self.rules)
        memory_metrics = self.evaluate_memory(lexicon, memory_cases, ctx.output_dir / "memory_verdicts.jsonl")
        metrics = {**{f"audit.{k}": v for k, v in audit_metrics.items()},
                   **{f"memory.{k}": v for k, v in memory_metrics.items()}}
        write_json_atomic(ctx.output_dir / "audit_eval_metrics.json",
                          {"audit_cases": str(self.audit_cases), "memory_cases": str(self.memory_cases),
                           "knowledge_dir": str(self.knowledge_dir), **lexicon.counts(), **metrics})
        log.info("audit_eval: intercept %.3f, false alarms %.3f over %d audit cases; memory P %.3f R %.3f F1 %.3f "
                 "over %d memory cases", metrics["audit.intercept_rate"], metrics["audit.false_alarm_rate"],
                 len(audit_cases), metrics["memory.precision"], metrics["memory.recall"], metrics["memory.f1"],
                 len(memory_cases))
        ctx.tracker.log_params({"audit_cases": str(self.audit_cases), "memory_cases": str(self.memory_cases),
                                "knowledge_dir": str(self.knowledge_dir)})
        ctx.tracker.log_metrics(metrics)
        for name in ("audit_verdicts.jsonl", "memory_verdicts.jsonl", "audit_eval_metrics.json"):
            ctx.tracker.log_artifact(ctx.output_dir / name)
        return {"audit_verdicts": "audit_verdicts.jsonl", "memory_verdicts": "memory_verdicts.jsonl",
                "metrics": "audit_eval_metrics.json"}

    @staticmethod
    def evaluate_audit(lexicon: Lexicon, cases: list[AuditCase], out: Path,
                       rules: list[Any] | None = None) -> dict[str, float]:
        auditor = ContraindicationAuditor(lexicon, rules)
        counts: dict[str, dict[str, int]] = {}
        blocked: dict[str, dict[str, int]] = {}
        findings = unreviewed = 0
        with atomic_path(out) as staged, open(staged, "w", encoding="utf-8") as handle:
            for case in cases:
                result = auditor.audit(case.draft, PatientProfile.from_case(case.profile, f"{case.id}:profile"),
                                       question=case.question)
                for group in ("", case.category) if case.category else ("",):
                    counts.setdefault(group, {"block": 0, "pass": 0})[case.expected] += 1
                    blocked.setdefault(group, {"block": 0, "pass": 0})[case.expected] += int(result.blocked)
                findings += len(result.findings)
                unreviewed += sum(1 for f in result.findings if f.rule_id and not f.reviewed)
                handle.write(json.dumps({
                    "id": case.id, "category": case.category, "expected": case.expected, "verdict": result.verdict,
                    "correct": result.verdict == case.expected, "recommended": result.recommended,
                    "warned": result.warned, "unresolved": result.unresolved,
                    "findings": [f.as_dict() for f in result.findings]}, ensure_ascii=False) + "\n")
        total, hits = counts.get("", {"block": 0, "pass": 0}), blocked.get("", {"block": 0, "pass": 0})
        metrics = {"intercept_rate": _rate(hits["block"], total["block"]),
                   "false_alarm_rate": _rate(hits["pass"], total["pass"]),
                   "cases_block": float(total["block"]), "cases_pass": float(total["pass"]),
                   "missed": float(total["block"] - hits["block"]), "false_alarms": float(hits["pass"]),
                   "findings": float(findings), "findings_unreviewed": float(unreviewed)}
        for group in sorted(g for g in counts if g):
            name = "".join(c if c.isalnum() or c in "_-" else "_" for c in group)
            metrics[f"{name}.cases"] = float(counts[group]["block"] + counts[group]["pass"])
            if counts[group]["block"]:
                metrics[f"{name}.intercept_rate"] = _rate(blocked[group]["block"], counts[group]["block"])
            if counts[group]["pass"]:
                metrics[f"{name}.false_alarm_rate"] = _rate(blocked[group]["pass"], counts[group]["pass"])
        return metrics

    @staticmethod
    def evaluate_memory(lexicon: Lexicon, cases: list[MemoryCase], out: Path) -> dict[str, float]:
        extractor = RuleBasedExtractor(lexicon)
        counts: dict[str, list[int]] = {}   # group -> [tp, fp, fn, exact, cases]; "" is all cases
        with atomic_path(out) as staged, open(staged, "w", encoding="utf-8") as handle:
            for case in cases:
                facts: list = []
                for turn_no, message in enumerate([*case.history, case.utterance]):
                    # the extractor reads each message with what is remembered so far, as the agent's turn does
                    facts = merge_facts(facts, extractor.extract(message, f"{case.id}:{turn_no}", known=facts))
                expected = profile_items(lexicon, case.expected)
                predicted = _more_specific(lexicon, predicted_items(lexicon, PatientProfile.from_facts(facts)),
                                           expected)
                expected, predicted = _sex_scored_once(expected, predicted)
                for group in ("", case.category) if case.category else ("",):
                    c = counts.setdefault(group, [0, 0, 0, 0, 0])
                    c[0] += len(predicted & expected)
                    c[1] += len(predicted - expected)
                    c[2] += len(expected - predicted)
                    c[3] += int(predicted == expected)
                    c[4] += 1
                handle.write(json.dumps({
                    "id": case.id, "category": case.category, "correct": predicted == expected,
                    "missing": sorted(map(list, expected - predicted), key=str),
                    "spurious": sorted(map(list, predicted - expected), key=str),
                    "facts": [{"kind": f.kind, "value": f.value, "status": f.status, "evidence": f.evidence}
                              for f in facts]}, ensure_ascii=False) + "\n")

        def scores(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
            precision, recall = _rate(tp, tp + fp), _rate(tp, tp + fn)
            return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)

        tp, fp, fn, exact, total = counts.get("", [0, 0, 0, 0, 0])
        precision, recall, f1 = scores(tp, fp, fn)
        metrics = {"precision": precision, "recall": recall, "f1": f1, "exact_match": _rate(exact, total),
                   "cases": float(total)}
        for group in sorted(g for g in counts if g):
            name = "".join(c if c.isalnum() or c in "_-" else "_" for c in group)
            p, r, f = scores(*counts[group][:3])
            metrics.update({f"{name}.precision": p, f"{name}.recall": r, f"{name}.f1": f,
                            f"{name}.cases": float(counts[group][4])})
        return metrics
