"""Deterministic synthetic Chinese medical Q&A data, written for this project, used by the demo
pipeline, test fixtures and benchmarks (cMedQA2-, dialogue-CSV- and Huatuo-JSONL-shaped files)."""

from __future__ import annotations

import csv
import json
import random
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence, TypeVar

__all__ = [
    "MESSY_KINDS",
    "SyntheticQA",
    "generate_questions",
    "mainland_id_check_digit",
    "write_cmedqa2",
    "write_dialogue_csv",
    "write_huatuo_jsonl",
]

MESSY_KINDS = (
    "exact_duplicate",
    "near_duplicate",
    "html",
    "fullwidth_whitespace",
    "pii",
    "short_answer",
    "embedded_newline",
)

T = TypeVar("T")

MIN_ANSWER_CHARS = 60
MAX_ANSWER_CHARS = 300


@dataclass(frozen=True)
class SyntheticQA:
    question_id: int
    department: str
    title: str
    ask: str
    answers: tuple[str, ...]


# --------------------------------------------------------------------------------------------
# Vocabulary (hand-written for this project): synthetic_vocabulary.json
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Condition:
    name: str
    symptoms: tuple[str, ...]
    checks: tuple[str, ...]
    treatments: tuple[str, ...]


@dataclass(frozen=True)
class _Subject:
    name: str  # how the asker refers to the patient: 我 / 我爸 / 孩子 ...
    patient_ref: str  # how the doctor refers to the patient: 您 / 您父亲 / 孩子 ...
    sex: str | None  # None: drawn at random
    min_age: int
    max_age: int
    is_child: bool = False


@dataclass(frozen=True)
class _Department:
    name: str
    weight: int
    subjects: tuple[_Subject, ...]
    conditions: tuple[_Condition, ...]
    lifestyle: tuple[str, ...]
    red_flags: tuple[str, ...]
    greetings: tuple[str, ...] = ()


def _load_vocabulary() -> dict:
    """The hand-written vocabulary (package data beside this module): subjects, departments with their
    conditions, and the phrases questions and answers are built from."""
    return json.loads((Path(__file__).with_name("synthetic_vocabulary.json")).read_text(encoding="utf-8"))


_VOCABULARY = _load_vocabulary()
_SUBJECT_GROUPS = {name: tuple(_Subject(**subject) for subject in group)
                   for name, group in _VOCABULARY["subject_groups"].items()}
_DEPARTMENTS: tuple[_Department, ...] = tuple(
    _Department(dept["name"], dept["weight"], _SUBJECT_GROUPS[dept["subjects"]],
                tuple(_Condition(c["name"], tuple(c["symptoms"]), tuple(c["checks"]), tuple(c["treatments"]))
                      for c in dept["conditions"]),
                tuple(dept["lifestyle"]), tuple(dept["red_flags"]), tuple(dept["greetings"]))
    for dept in _VOCABULARY["departments"])
_DURATIONS = tuple(_VOCABULARY["durations"])
_TREATMENTS_TRIED = tuple(_VOCABULARY["treatments_tried"])
_GREETINGS = tuple(_VOCABULARY["greetings"])
_CLOSINGS = tuple(_VOCABULARY["closings"])
_WEEKS = tuple(_VOCABULARY["weeks"])
_SAFETY = tuple(_VOCABULARY["safety"])
_PADDING = tuple(_VOCABULARY["padding"])
_ASK_TEMPLATES = tuple(_VOCABULARY["ask_templates"])
_TITLE_TEMPLATES = tuple(_VOCABULARY["title_templates"])
_ANSWER_TEMPLATES = tuple(_VOCABULARY["answer_templates"])
_EXTRA_ADVICE = tuple(_VOCABULARY["extra_advice"])
_EXTRA_ADVICE_RATE = 0.4
_SHORT_ANSWERS = tuple(_VOCABULARY["short_answers"])
_DOCTOR_NAMES = tuple(_VOCABULARY["doctor_names"])
_SIGNATURE_TEMPLATES = tuple(_VOCABULARY["signature_templates"])
_ID_AREA_CODES = tuple(_VOCABULARY["id_area_codes"])
_EMAIL_USERS = tuple(_VOCABULARY["email_users"])
_EMAIL_DOMAINS = tuple(_VOCABULARY["email_domains"])
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

_WEIGHTED_DEPARTMENTS = tuple(dept for dept in _DEPARTMENTS for _ in range(dept.weight))

# --------------------------------------------------------------------------------------------
# Core generation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Case:
    """One patient story: every question paraphrase and answer about it shares these slots."""

    department: _Department
    condition: _Condition
    slots: dict[str, str]


# The hot path uses rng.random() directly: Random.choice/randint cost several times more per call,
# and a benchmark draws millions of slots.
def _pick(rng: random.Random, options: Sequence[T]) -> T:
    return options[int(rng.random() * len(options))]


def _randint(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def _pick_distinct(rng: random.Random, options: Sequence[T], count: int) -> list[T]:
    if count > len(options):
        raise ValueError(f"cannot pick {count} distinct items from {len(options)}")
    chosen: list[T] = []
    while len(chosen) < count:
        item = _pick(rng, options)
        if item not in chosen:
            chosen.append(item)
    return chosen


def _draw_case(rng: random.Random) -> _Case:
    department = _pick(rng, _WEIGHTED_DEPARTMENTS)
    condition = _pick(rng, department.conditions)
    subject = _pick(rng, department.subjects)
    sex = subject.sex or _pick(rng, ("男", "女"))
    sex_label = sex + "孩" if subject.is_child else sex
    age = _randint(rng, subject.min_age, subject.max_age)
    pronoun = "我" if subject.name == "我" else ("他" if sex == "男" else "她")
    symptom, symptom2, symptom3 = _pick_distinct(rng, condition.symptoms, 3)
    slots = {
        "department": department.name,
        "condition": condition.name,
        "subject": subject.name,
        "patient_ref": subject.patient_ref,
        "pronoun": pronoun,
        "sex": sex_label,
        "age": str(age),
        "profile": f"{sex_label}，{age}岁",
        "duration": _pick(rng, _DURATIONS),
        "symptom": symptom,
        "symptom2": symptom2,
        "symptom3": symptom3,
        "check": _pick(rng, condition.checks),
        "treatment": _pick(rng, condition.treatments),
        "treatment_tried": _pick(rng, _TREATMENTS_TRIED),
    }
    return _Case(department, condition, slots)


def _render_title(rng: random.Random, case: _Case) -> str:
    return _pick(rng, _TITLE_TEMPLATES).format_map(case.slots)


def _render_ask(rng: random.Random, case: _Case, template: str | None = None) -> str:
    return (template or _pick(rng, _ASK_TEMPLATES)).format_map(case.slots)


def _fit_answer_length(rng: random.Random, text: str) -> str:
    while len(text) < MIN_ANSWER_CHARS:
        text += _pick(rng, _PADDING)
    if len(text) > MAX_ANSWER_CHARS:
        cut = text.rfind("。", 0, MAX_ANSWER_CHARS)
        text = text[: cut + 1] if cut > 0 else text[:MAX_ANSWER_CHARS]
    return text


def _render_answer(rng: random.Random, case: _Case) -> str:
    department = case.department
    condition = case.condition
    check, check2 = _pick_distinct(rng, condition.checks, 2)
    treatment, treatment2 = _pick_distinct(rng, condition.treatments, 2)
    lifestyle, lifestyle2 = _pick_distinct(rng, department.lifestyle, 2)
    red_flag = _pick(rng, department.red_flags)
    greetings = _GREETINGS + department.greetings
    slots = dict(case.slots)
    if rng.random() < 0.5:  # doctors often lead with the other symptom
        slots["symptom"], slots["symptom2"] = slots["symptom2"], slots["symptom"]
    slots.update(
        greeting=_pick(rng, greetings),
        closing=_pick(rng, _CLOSINGS),
        check=check,
        check2=check2,
        treatment=treatment,
        treatment2=treatment2,
        lifestyle=lifestyle,
        lifestyle2=lifestyle2,
        red_flag=red_flag,
        weeks=_pick(rng, _WEEKS),
        safety=_pick(rng, _SAFETY).format(red_flag=red_flag),
    )
    if rng.random() < _EXTRA_ADVICE_RATE:
        slots["closing"] = _pick(rng, _EXTRA_ADVICE).format_map(slots) + slots["closing"]
    return _fit_answer_length(rng, _pick(rng, _ANSWER_TEMPLATES).format_map(slots))


def _render_answers(rng: random.Random, case: _Case, count: int) -> tuple[str, ...]:
    answers: list[str] = []
    for _ in range(count):
        answer = _render_answer(rng, case)
        for _retry in range(5):  # different doctors should not give word-identical answers
            if answer not in answers:
                break
            answer = _render_answer(rng, case)
        answers.append(answer)
    return tuple(answers)


def _validate_counts(n_questions: int, answers_per_question: tuple[int, int]) -> None:
    if n_questions < 0:
        raise ValueError(f"n_questions must be >= 0, got {n_questions}")
    low, high = answers_per_question
    if not 1 <= low <= high:
        raise ValueError(f"answers_per_question must satisfy 1 <= low <= high, got {answers_per_question}")


def generate_questions(
    n_questions: int, seed: int = 0, answers_per_question: tuple[int, int] = (1, 3)
) -> Iterator[SyntheticQA]:
    """Deterministic stream; number of answers per question uniform in the inclusive range."""
    _validate_counts(n_questions, answers_per_question)
    low, high = answers_per_question
    rng = random.Random(seed)
    for index in range(n_questions):
        case = _draw_case(rng)
        title = _render_title(rng, case)
        ask = _render_ask(rng, case)
        answers = _render_answers(rng, case, _randint(rng, low, high))
        yield SyntheticQA(index + 1, case.department.name, title, ask, answers)


# --------------------------------------------------------------------------------------------
# cMedQA2 and Huatuo writers
# --------------------------------------------------------------------------------------------


def write_cmedqa2(
    out_dir: Path, n_questions: int, seed: int = 0, answers_per_question: tuple[int, int] = (1, 3)
) -> tuple[Path, Path]:
    """Writes out_dir/questions.csv (header `question_id,content`) and out_dir/answers.csv
    (header `ans_id,question_id,content`), UTF-8, csv module with QUOTE_MINIMAL, content = title + ask for
    questions. ans_id counts from 1. Returns (questions_path, answers_path). Streams: never builds all rows in memory."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    questions_path = out_dir / "questions.csv"
    answers_path = out_dir / "answers.csv"
    with (
        questions_path.open("w", encoding="utf-8", newline="") as questions_file,
        answers_path.open("w", encoding="utf-8", newline="") as answers_file,
    ):
        question_writer = csv.writer(questions_file, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        answer_writer = csv.writer(answers_file, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        question_writer.writerow(("question_id", "content"))
        answer_writer.writerow(("ans_id", "question_id", "content"))
        ans_id = 0
        for qa in generate_questions(n_questions, seed, answers_per_question):
            question_writer.writerow((qa.question_id, qa.title + qa.ask))
            for answer in qa.answers:
                ans_id += 1
                answer_writer.writerow((ans_id, qa.question_id, answer))
    return questions_path, answers_path


def write_huatuo_jsonl(path: Path, n_questions: int, seed: int = 0) -> Path:
    """UTF-8 JSONL, each line {"questions": [2-3 paraphrases of the question], "answers": [1-2 answers]}."""
    _validate_counts(n_questions, (1, 2))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for _ in range(n_questions):
            case = _draw_case(rng)
            templates = rng.sample(_ASK_TEMPLATES, _randint(rng, 2, 3))
            record = {
                "questions": [_render_ask(rng, case, template) for template in templates],
                "answers": list(_render_answers(rng, case, _randint(rng, 1, 2))),
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


# --------------------------------------------------------------------------------------------
# Dialogue CSV with optional, deterministic dirt
# --------------------------------------------------------------------------------------------

_Row = tuple[str, str, str, str]  # department, title, ask, answer
_MESSY_BLOCK = 100
# Per block of 100 questions: how many rows get each in-place modification, and how many extra rows follow.
_ROW_DIRT_PER_BLOCK = {"html": 2, "fullwidth_whitespace": 2, "pii": 2, "short_answer": 1, "embedded_newline": 1}
_EXTRA_ROWS_PER_BLOCK = {"exact_duplicate": 3, "near_duplicate": 2}
_SIGNATURE_RATE = 0.05


def mainland_id_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a mainland China resident ID number."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"expected 17 digits, got {first17!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS))
    return "10X98765432"[total % 11]


def _fake_id_number(rng: random.Random) -> str:
    birth = f"{rng.randint(1950, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = rng.choice(_ID_AREA_CODES) + birth + f"{rng.randint(0, 999):03d}"
    return first17 + mainland_id_check_digit(first17)


def _fake_mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + f"{rng.randrange(10**9):09d}"


def _fake_email(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return f"{rng.randint(10**7, 10**10)}@qq.com"
    return f"{rng.choice(_EMAIL_USERS)}{rng.randint(1, 2005)}@{rng.choice(_EMAIL_DOMAINS)}"


def _can_encode(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _add_html(rng: random.Random, row: _Row) -> _Row:
    department, title, ask, answer = row
    answer = answer.replace("。", "。<br>", rng.randint(1, 2))
    if rng.random() < 0.5:
        answer = f"<p>{answer}</p>"
    ask = ask.replace("，", "，&nbsp;", 1)
    return department, title, ask, answer


_TO_FULLWIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F) if chr(code).isalnum()}


def _add_fullwidth_and_whitespace(rng: random.Random, row: _Row) -> _Row:
    department, title, ask, answer = row
    if not any(ch.isascii() and ch.isalnum() for ch in ask + answer):
        ask += f"（年龄：{rng.randint(18, 80)}岁）"
    ask = ask.translate(_TO_FULLWIDTH)
    answer = answer.translate(_TO_FULLWIDTH)
    ask = rng.choice((" ", "  ", "\u3000", "\t")) + ask.replace("，", "， ", 1) + rng.choice((" ", "\u3000", "  "))
    answer = answer.replace("。", "。  ", 1) + " "
    return department, " " + title, ask, answer


def _add_pii(rng: random.Random, row: _Row) -> _Row:
    department, title, ask, answer = row
    form = rng.randrange(3)
    if form == 0:
        ask += f"我的身份证号是{_fake_id_number(rng)}，麻烦帮我看看医保能不能报。"
    elif form == 1:
        ask += f"方便的话打我电话{_fake_mobile(rng)}详细说一下。"
    else:
        ask += f"检查报告可以发到我邮箱{_fake_email(rng)}吗？"
    return department, title, ask, answer


def _make_answer_short(rng: random.Random, row: _Row) -> _Row:
    return row[0], row[1], row[2], rng.choice(_SHORT_ANSWERS)


def _add_embedded_newline(rng: random.Random, row: _Row) -> _Row:
    department, title, ask, answer = row
    cut = answer.find("。")
    cut = cut + 1 if 0 <= cut < len(answer) - 1 else len(answer) // 2
    return department, title, ask, answer[:cut] + "\n" + answer[cut:]


_NEAR_DUP_SWAPS = (("吗", "么"), ("的", "地"), ("。", "！"), ("？", "?"), ("，", ","))


def _perturb(rng: random.Random, text: str) -> str:
    """One small edit: insert punctuation, drop a character or swap a look-alike character."""
    edit = rng.randrange(3)
    if edit == 0 or len(text) < 4:
        position = rng.randrange(len(text) + 1)
        return text[:position] + rng.choice("，。！？") + text[position:]
    if edit == 1:
        position = rng.randrange(len(text))
        return text[:position] + text[position + 1:]
    for old, new in rng.sample(_NEAR_DUP_SWAPS, len(_NEAR_DUP_SWAPS)):
        if old in text:
            return text.replace(old, new, 1)
    return text + rng.choice("。！")


def _near_duplicate(rng: random.Random, row: _Row) -> _Row:
    department, title, ask, answer = row
    for _ in range(rng.randint(1, 2)):
        if rng.random() < 0.5:
            ask = _perturb(rng, ask)
        else:
            answer = _perturb(rng, answer)
    return department, title, ask, answer


_ROW_DIRT = {
    "html": _add_html,
    "fullwidth_whitespace": _add_fullwidth_and_whitespace,
    "pii": _add_pii,
    "short_answer": _make_answer_short,
    "embedded_newline": _add_embedded_newline,
}


def _shuffled_block(rng: random.Random, counts: dict[str, int]) -> list[str | None]:
    labels: list[str | None] = [kind for kind, count in counts.items() for _ in range(count)]
    labels += [None] * (_MESSY_BLOCK - len(labels))
    rng.shuffle(labels)
    return labels


def _dirt_plan(rng: random.Random, n_questions: int) -> Iterator[tuple[str | None, str | None]]:
    """Per question: (in-place dirt kind or None, extra-row kind or None), exact rates per block of 100."""
    for _block_start in range(0, n_questions, _MESSY_BLOCK):
        row_dirt = _shuffled_block(rng, _ROW_DIRT_PER_BLOCK)
        extra_rows = _shuffled_block(rng, _EXTRA_ROWS_PER_BLOCK)
        yield from zip(row_dirt, extra_rows)


def _sign(rng: random.Random, row: _Row, names: tuple[str, ...]) -> _Row:
    department, title, ask, answer = row
    signature = rng.choice(_SIGNATURE_TEMPLATES).format(department=department, name=rng.choice(names))
    return department, title, ask, answer + signature


def write_dialogue_csv(
    path: Path, n_questions: int, seed: int = 0, encoding: str = "gbk", messy: bool = False
) -> Path:
    """Chinese-medical-dialogue style CSV with header `department,title,ask,answer`, one row per question
    (first answer only; same questions as write_cmedqa2 with the same seed), in the given encoding (default gbk).

    messy=True deterministically modifies, per block of 100 questions, 2 rows with HTML, 2 with full-width
    characters and stray whitespace, 2 with PII in the ask, 1 with a short answer and 1 with an embedded
    newline, and appends 3 exact and 2 near duplicates of recent rows (so the file has ~5% more rows).
    Some answers carry a doctor's signature; the first one always uses a name the encoding can write but
    GB2312 cannot (e.g. 王喆) when such a name exists for the encoding."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = tuple(name for name in _DOCTOR_NAMES if _can_encode(name, encoding))
    beyond_gb2312 = tuple(name for name in names if not _can_encode(name, "gb2312"))
    need_beyond_gb2312 = bool(beyond_gb2312)
    sign_rng = random.Random(f"dialogue-signature:{seed}")
    dirt_rng = random.Random(f"dialogue-messy:{seed}")
    plan = _dirt_plan(dirt_rng, n_questions) if messy else None
    recent_rows: deque[_Row] = deque(maxlen=200)
    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(("department", "title", "ask", "answer"))
        for qa in generate_questions(n_questions, seed):  # same stream as write_cmedqa2 for this seed
            row: _Row = (qa.department, qa.title, qa.ask, qa.answers[0])
            row_dirt, extra_row = next(plan) if plan is not None else (None, None)
            if row_dirt is not None:
                row = _ROW_DIRT[row_dirt](dirt_rng, row)
            if row_dirt != "short_answer" and names and (need_beyond_gb2312 or sign_rng.random() < _SIGNATURE_RATE):
                row = _sign(sign_rng, row, beyond_gb2312 if need_beyond_gb2312 else names)
                need_beyond_gb2312 = False
            writer.writerow(row)
            recent_rows.append(row)
            if extra_row == "exact_duplicate":
                writer.writerow(dirt_rng.choice(recent_rows))
            elif extra_row == "near_duplicate":
                writer.writerow(_near_duplicate(dirt_rng, dirt_rng.choice(recent_rows)))
    return path
