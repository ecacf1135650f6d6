"""Scores for Chinese text and CMMLU-format multiple choice.

`rouge-score` splits on non-alphanumeric ASCII, so Chinese text has no tokens and scores 0: ROUGE-L here runs
over characters (whitespace dropped, ASCII lower-cased), the usual practice for Chinese summarisation and QA.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from medq.errors import InputDataError

CMMLU_HEADER = ["", "Question", "A", "B", "C", "D", "Answer"]
LETTERS = ("A", "B", "C", "D")
SUBJECT_NAMES = {"anatomy": "解剖学", "clinical_knowledge": "临床知识", "college_medicine": "大学医学",
                 "college_medical_statistics": "大学医学统计", "genetics": "遗传学", "nutrition": "营养学",
                 "professional_medicine": "专业医学", "traditional_chinese_medicine": "中医中药", "virology": "病毒学"}
CMMLU_PROMPT = "以下是关于{subject}的单项选择题，请直接给出正确答案的选项。\n\n题目：{question}\nA. {A}\nB. {B}\nC. {C}\nD. {D}"
ANSWER_PREFIX = "答案："


class CharacterTokenizer:
    """The `tokenizer` rouge-score accepts: one token per non-space character."""

    def tokenize(self, text: str) -> list[str]:
        return [c.lower() for c in text if not c.isspace()]


def rouge_l(predictions: Sequence[str], references: Sequence[str]) -> list[float]:
    """Character-level ROUGE-L F1 per pair."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=CharacterTokenizer())
    return [scorer.score(ref, pred)["rougeL"].fmeasure for pred, ref in zip(predictions, references)]


@dataclass
class Question:
    subject: str
    where: str
    text: str
    options: dict[str, str]
    answer: str


def subject_of(path: Path) -> str:
    stem = Path(path).stem
    for suffix in ("_dev", "_test", "_val"):
        stem = stem.removesuffix(suffix)
    return stem


def read_cmmlu_csv(path: Path) -> list[Question]:
    path = Path(path)
    if not path.is_file():
        raise InputDataError(f"{path}: CMMLU file not found (evaluate.cmmlu.dir).")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows or [c.strip() for c in rows[0]] != CMMLU_HEADER:
        raise InputDataError(f"{path}: line 1: expected the CMMLU header ',Question,A,B,C,D,Answer', "
                             f"got {','.join(rows[0]) if rows else 'an empty file'}.")
    questions = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != 7:
            raise InputDataError(f"{path}: line {number}: expected 7 fields, got {len(row)}.")
        answer = row[6].strip().upper()
        if answer not in LETTERS:
            raise InputDataError(f"{path}: line {number}: Answer must be A, B, C or D, got {row[6]!r}.")
        questions.append(Question(subject_of(path), f"{path.name}:{number}", row[1],
                                  dict(zip(LETTERS, row[2:6])), answer))
    return questions


def cmmlu_prompt(question: Question) -> str:
    subject = SUBJECT_NAMES.get(question.subject, question.subject.replace("_", " "))
    return CMMLU_PROMPT.format(subject=subject, question=question.text, **question.options)


def choose_by_loglikelihood(model: Any, prompt_ids: list[int], option_ids: list[list[int]]) -> list[float]:
    """Log-likelihood of each option's tokens after the prompt (one forward when every option is one token)."""
    import torch

    with torch.no_grad():
        if all(len(ids) == 1 for ids in option_ids):
            logits = model(input_ids=torch.tensor([prompt_ids], device=model.device)).logits[0, -1].float()
            logprobs = torch.log_softmax(logits, dim=-1)
            return [float(logprobs[ids[0]]) for ids in option_ids]
        scores = []
        for ids in option_ids:
            full = torch.tensor([prompt_ids + ids], device=model.device)
            logprobs = torch.log_softmax(model(input_ids=full).logits[0].float(), dim=-1)
            positions = range(len(prompt_ids) - 1, len(prompt_ids) - 1 + len(ids))
            scores.append(float(sum(logprobs[p, t] for p, t in zip(positions, ids))))
        return scores
