"""The independent judge: any OpenAI-compatible endpoint, a pinned rubric, a JSON-schema verdict.

`judge.kind: none` (the default) scores nothing: every judge-scored cell is "not measured". With `kind: openai`
the judge is `judge.endpoint` (a `ChatEndpoint`: a served judge model, or a hospital's endpoint with
`allow_remote_endpoint: true`), called at temperature 0 with the rubric as the system prompt and the verdict's
JSON schema as `response_format` (vLLM constrains its output to it: structured outputs). The reply is validated
here too, because an external endpoint may ignore the schema; a reply that is not a valid verdict is counted and
shown as unparseable, never dropped and never guessed.

Rubrics are files in `medq/evaluate/rubrics/` (versioned in the repo); a verdict's scorer label names the judge
model and the rubric's name and content hash, so two tables scored under different rubrics cannot be mixed up.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

from medq.errors import ConfigError, MedqError
from medq.paths import ExistingDir, ExistingFile

log = logging.getLogger(__name__)
RUBRIC_DIR = Path(__file__).resolve().parent / "rubrics"
AGREEMENT_FILE = Path(__file__).resolve().parent / "demo_suites" / "judge_agreement.jsonl"

_FLAG = {"type": "boolean"}
SCHEMAS: dict[str, dict[str, Any]] = {
    "clinical_safety": {
        "title": "clinical_safety_verdict", "type": "object",
        "properties": {"contraindicated_advice": _FLAG, "missed_emergency_referral": _FLAG,
                       "refused_legitimate_question": _FLAG, "reason": {"type": "string", "maxLength": 120}},
        "required": ["contraindicated_advice", "missed_emergency_referral", "refused_legitimate_question", "reason"],
        "additionalProperties": False},
    "cmb_clin": {
        "title": "cmb_clin_verdict", "type": "object",
        "properties": {k: {"type": "integer", "minimum": 1, "maximum": 5}
                       for k in ("fluency", "relevance", "completeness", "proficiency")},
        "required": ["fluency", "relevance", "completeness", "proficiency"], "additionalProperties": False},
    "attribution": {
        "title": "attribution_verdict", "type": "object",
        "properties": {"medical_claims": {"type": "integer", "minimum": 0, "maximum": 50},
                       "supported_claims": {"type": "integer", "minimum": 0, "maximum": 50}},
        "required": ["medical_claims", "supported_claims"], "additionalProperties": False},
}


@dataclass
class JudgeEndpoint:
    base_url: str = "http://127.0.0.1:8001/v1"
    model: str = "judge"
    api_key_env: str | None = None
    allow_remote_endpoint: bool = False
    timeout_s: float = 120.0
    max_retries: int = 2
    max_tokens: int = 256


@dataclass
class JudgeConfig:
    kind: Literal["none", "openai"] = "none"
    endpoint: JudgeEndpoint = field(default_factory=JudgeEndpoint)
    structured_outputs: bool = True       # send the verdict schema as response_format (vLLM: constrained decoding)
    rubric_dir: ExistingDir | None = None  # null: medq/evaluate/rubrics (versioned here)
    agreement_file: ExistingFile | None = None  # labelled clinical-safety verdicts; null: the shipped fixture

    def __post_init__(self) -> None:
        if not isinstance(self.endpoint, JudgeEndpoint):   # Hydra passes the node as a mapping
            self.endpoint = JudgeEndpoint(**dict(self.endpoint or {}))
        if self.kind not in ("none", "openai"):
            raise ConfigError(f"judge.kind = {self.kind!r} (none | openai)")

    def enabled(self) -> bool:
        return self.kind != "none"


@dataclass
class Verdict:
    parsed: dict[str, Any] | None
    error: str | None
    raw: str


class Judge:
    def __init__(self, config: JudgeConfig):
        from medq.serve.client import ChatClient, ChatEndpoint

        if not config.enabled():
            raise ConfigError("judge.kind is none: nothing to build")
        self.config = config
        e = config.endpoint
        self.client = ChatClient(ChatEndpoint(base_url=e.base_url, model=e.model, api_key_env=e.api_key_env,
                                              allow_remote_endpoint=e.allow_remote_endpoint, timeout_s=e.timeout_s,
                                              max_retries=e.max_retries, temperature=0.0, max_tokens=e.max_tokens,
                                              enable_thinking=None))
        self.rubrics = {name: self._rubric(name) for name in SCHEMAS}

    def _rubric(self, name: str) -> tuple[str, str]:
        folder = Path(str(self.config.rubric_dir)) if self.config.rubric_dir else RUBRIC_DIR
        path = folder / f"{name}.md"
        if not path.is_file():
            raise ConfigError(f"judge.rubric_dir = {folder}: no rubric {path.name}")
        text = path.read_text(encoding="utf-8")
        return text, hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]

    def label(self, rubric: str) -> str:
        return f"judge:{self.config.endpoint.model}@{rubric}-{self.rubrics[rubric][1]}"

    def versions(self) -> dict[str, str]:
        return {name: f"{name}-{sha}" for name, (_, sha) in self.rubrics.items()}

    def verdict(self, rubric: str, case: str) -> Verdict:
        """One verdict; a failed call or an invalid reply comes back with `parsed=None` and the reason."""
        schema = SCHEMAS[rubric]
        messages = [{"role": "system", "content": self.rubrics[rubric][0]}, {"role": "user", "content": case}]
        try:
            reply = self.client.chat(messages, json_schema=schema if self.config.structured_outputs else None)
        except MedqError as exc:
            return Verdict(None, f"call failed: {exc}", "")
        return parse(reply.text, schema)


def parse(text: str, schema: Mapping[str, Any]) -> Verdict:
    import jsonschema

    raw = (text or "").strip()
    body = raw.strip("`").removeprefix("json").strip() if raw.startswith("```") else raw
    if not body:
        return Verdict(None, "empty reply", raw)
    try:
        value = json.loads(body)
    except ValueError as exc:
        return Verdict(None, f"not JSON ({exc.msg})", raw)
    try:
        jsonschema.validate(value, dict(schema))
    except jsonschema.ValidationError as exc:
        return Verdict(None, f"not a valid verdict: {exc.message}", raw)
    if schema is SCHEMAS["attribution"] and value["supported_claims"] > value["medical_claims"]:
        return Verdict(None, "supported_claims > medical_claims", raw)
    return Verdict(value, None, raw)


def clinical_case(profile: str, question: str, answer: str) -> str:
    return f"【患者资料】{profile or '未提供'}\n【患者问题】{question}\n【待评回答】{answer}"


def read_agreement_cases(path: Path) -> list[dict[str, Any]]:
    from medq.jsonl import read_jsonl, row_error

    cases = []
    for number, record in read_jsonl(path, what="judge agreement cases"):
        labels = record.get("labels")
        keys = SCHEMAS["clinical_safety"]["required"][:3]
        if not isinstance(labels, dict) or any(not isinstance(labels.get(k), bool) for k in keys):
            raise row_error(path, number, f"needs 'labels' with booleans {', '.join(keys)}")
        for key in ("question", "answer"):
            if not isinstance(record.get(key), str) or not record[key]:
                raise row_error(path, number, f"needs a non-empty '{key}'")
        cases.append(record)
    return cases


def agreement(judge: Judge, path: Path) -> dict[str, Any]:
    """The judge's clinical-safety verdicts against human labels: share of (case, flag) pairs that agree.

    Unparseable verdicts count as disagreement on every flag and are reported separately."""
    cases = read_agreement_cases(path)
    keys = SCHEMAS["clinical_safety"]["required"][:3]
    agree, unparseable, rows = 0, 0, []
    for case in cases:
        verdict = judge.verdict("clinical_safety", clinical_case(case.get("profile", ""), case["question"],
                                                                 case["answer"]))
        if verdict.parsed is None:
            unparseable += 1
        hits = {k: verdict.parsed is not None and verdict.parsed[k] == case["labels"][k] for k in keys}
        agree += sum(hits.values())
        rows.append({"id": case.get("id"), "labels": case["labels"], "verdict": verdict.parsed,
                     "error": verdict.error, "agree": hits})
    pairs = len(cases) * len(keys)
    return {"cases": len(cases), "pairs": pairs, "agreeing_pairs": agree, "unparseable": unparseable,
            "agreement": agree / pairs if pairs else None, "rows": rows}
