import csv
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from medq.prepare.synthetic import (
    MESSY_KINDS,
    SyntheticQA,
    generate_questions,
    mainland_id_check_digit,
    write_cmedqa2,
    write_dialogue_csv,
    write_huatuo_jsonl,
)

ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+", re.ASCII)
HTML = re.compile(r"<(?:br|p|/p)\s*/?>|&nbsp;")
FULLWIDTH_ALNUM = re.compile(r"[０-９Ａ-Ｚａ-ｚ]")
DIALOGUE_HEADER = ["department", "title", "ask", "answer"]


def read_csv(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


def iso7064_check_char(first17: str) -> str:
    """Independent formulation: weights 2^(17-i) mod 11, check value (12 - sum) mod 11, 10 -> X."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def dialogue_rows(path: Path, encoding: str = "gbk") -> list[list[str]]:
    rows = read_csv(path, encoding)
    assert rows[0] == DIALOGUE_HEADER
    return rows[1:]


# --- generate_questions -------------------------------------------------------------------


def test_generate_questions_is_deterministic_per_seed():
    first = list(generate_questions(200, seed=7))
    again = list(generate_questions(200, seed=7))
    other = list(generate_questions(200, seed=8))
    assert first == again
    assert first != other
    assert all(isinstance(qa, SyntheticQA) for qa in first)


def test_generate_questions_ids_answer_counts_and_lengths():
    questions = list(generate_questions(500, seed=1, answers_per_question=(2, 4)))
    assert [qa.question_id for qa in questions] == list(range(1, 501))
    counts = Counter(len(qa.answers) for qa in questions)
    assert set(counts) == {2, 3, 4}
    for qa in questions:
        assert qa.department and qa.title and qa.ask
        assert "{" not in qa.title + qa.ask + "".join(qa.answers)
        assert len(set(qa.answers)) == len(qa.answers)
        assert all(60 <= len(answer) <= 300 for answer in qa.answers)


def test_generate_questions_covers_departments_and_safety_advice():
    questions = list(generate_questions(1000, seed=2))
    assert len({qa.department for qa in questions}) >= 8
    answers = [answer for qa in questions for answer in qa.answers]
    assert any("及时就医" in answer for answer in answers)
    assert len(set(answers)) / len(answers) > 0.95


@pytest.mark.parametrize("bad_range", [(0, 2), (3, 2)])
def test_generate_questions_rejects_bad_answer_range(bad_range):
    with pytest.raises(ValueError):
        next(generate_questions(1, answers_per_question=bad_range))


def test_generating_a_thousand_questions_is_usable():
    # Smoke test for the streaming path at a realistic fixture size (no timing assertion).
    assert sum(1 for _ in generate_questions(1000, seed=5)) == 1000


# --- cMedQA2 --------------------------------------------------------------------------------


def test_cmedqa2_files_are_deterministic(tmp_path):
    first = write_cmedqa2(tmp_path / "a", 300, seed=3)
    again = write_cmedqa2(tmp_path / "b", 300, seed=3)
    other = write_cmedqa2(tmp_path / "c", 300, seed=4)
    for left, right in zip(first, again):
        assert left.read_bytes() == right.read_bytes()
    assert first[1].read_bytes() != other[1].read_bytes()


def test_cmedqa2_layout_and_referential_integrity(tmp_path):
    questions_path, answers_path = write_cmedqa2(tmp_path, 400, seed=0, answers_per_question=(1, 3))
    assert (questions_path, answers_path) == (tmp_path / "questions.csv", tmp_path / "answers.csv")

    questions = read_csv(questions_path)
    answers = read_csv(answers_path)
    assert questions[0] == ["question_id", "content"]
    assert answers[0] == ["ans_id", "question_id", "content"]
    assert len(questions) == 401

    question_ids = {row[0] for row in questions[1:]}
    assert len(question_ids) == 400
    assert [row[0] for row in answers[1:]] == [str(i) for i in range(1, len(answers))]
    per_question = Counter(row[1] for row in answers[1:])
    assert set(per_question) <= question_ids
    assert set(per_question) == question_ids
    assert set(per_question.values()) == {1, 2, 3}


def test_cmedqa2_question_content_is_title_plus_ask(tmp_path):
    questions_path, _ = write_cmedqa2(tmp_path, 50, seed=9)
    expected = [qa.title + qa.ask for qa in generate_questions(50, seed=9)]
    assert [row[1] for row in read_csv(questions_path)[1:]] == expected


# --- dialogue CSV ---------------------------------------------------------------------------


def test_dialogue_csv_is_gbk_but_not_gb2312(tmp_path):
    path = write_dialogue_csv(tmp_path / "dialogue.csv", 300, seed=0)
    data = path.read_bytes()
    text = data.decode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("gb2312")
    beyond_gb2312 = {ch for ch in text if not _encodes(ch, "gb2312")}
    assert beyond_gb2312, "expected at least one GBK-only character"

    rows = dialogue_rows(path)
    assert len(rows) == 300
    assert all(len(row) == 4 and all(row) for row in rows)


def test_dialogue_csv_can_target_gb2312_without_errors(tmp_path):
    path = write_dialogue_csv(tmp_path / "dialogue.csv", 300, seed=0, encoding="gb2312", messy=True)
    path.read_bytes().decode("gb2312")


def test_dialogue_csv_clean_rows_follow_first_answers(tmp_path):
    path = write_dialogue_csv(tmp_path / "dialogue.csv", 100, seed=11, encoding="utf-8")
    rows = dialogue_rows(path, "utf-8")
    generated = list(generate_questions(100, seed=11))
    for row, qa in zip(rows, generated):
        assert row[:3] == [qa.department, qa.title, qa.ask]
        assert row[3].startswith(qa.answers[0])
    assert len(rows) == len({tuple(row) for row in rows})


def test_dialogue_csv_is_deterministic(tmp_path):
    first = write_dialogue_csv(tmp_path / "a.csv", 500, seed=1, messy=True)
    again = write_dialogue_csv(tmp_path / "b.csv", 500, seed=1, messy=True)
    other = write_dialogue_csv(tmp_path / "c.csv", 500, seed=2, messy=True)
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_messy_dialogue_contains_every_kind_of_dirt(tmp_path):
    n_questions = 1000
    rows = dialogue_rows(write_dialogue_csv(tmp_path / "messy.csv", n_questions, seed=0, messy=True))
    clean_rows = dialogue_rows(write_dialogue_csv(tmp_path / "clean.csv", n_questions, seed=0))
    assert set(MESSY_KINDS) >= {"exact_duplicate", "near_duplicate", "html", "pii", "short_answer"}

    # Duplicates are extra rows: 3% exact + 2% near.
    assert len(rows) == n_questions + 50
    duplicate_rows = sum(count - 1 for count in Counter(map(tuple, rows)).values())
    assert 25 <= duplicate_rows <= 40

    asks = [row[2] for row in rows]
    answers = [row[3] for row in rows]
    assert sum(bool(HTML.search(a + b)) for a, b in zip(asks, answers)) >= 15
    assert sum(bool(FULLWIDTH_ALNUM.search(a + b)) for a, b in zip(asks, answers)) >= 15
    assert any(ask != ask.strip() or "\u3000" in ask for ask in asks)
    assert sum(len(answer) < 5 for answer in answers) >= 8
    assert sum("\n" in answer for answer in answers) >= 8

    id_numbers = [m for ask in asks for m in ID_NUMBER.findall(ask)]
    assert id_numbers and all(iso7064_check_char(n[:17]) == n[17] for n in id_numbers)
    assert any(MOBILE.search(ask) for ask in asks)
    assert any(EMAIL.search(ask) for ask in asks)

    # None of that dirt exists in the clean file.
    assert not any(HTML.search("".join(row)) or "\n" in row[3] or len(row[3]) < 5 for row in clean_rows)
    assert not any(ID_NUMBER.search(row[2]) or MOBILE.search(row[2]) or EMAIL.search(row[2]) for row in clean_rows)


def test_messy_near_duplicates_differ_by_a_character_or_two(tmp_path):
    rows = dialogue_rows(write_dialogue_csv(tmp_path / "messy.csv", 1000, seed=3, messy=True))
    by_title: dict[str, list[tuple[str, ...]]] = {}
    for row in rows:
        by_title.setdefault(row[0] + row[1], []).append(tuple(row))
    near_pairs = 0
    for group in by_title.values():
        for i, left in enumerate(group):
            for right in group[i + 1:]:
                left_text, right_text = left[2] + "|" + left[3], right[2] + "|" + right[3]
                if left_text != right_text and _edit_distance_at_most_2(left_text, right_text):
                    near_pairs += 1
    assert near_pairs >= 10


def test_mainland_id_check_digit_matches_independent_formula():
    assert mainland_id_check_digit("11010519491231002") == "X"
    for first17 in ("44030519900101123", "31010419851231456", "51010720040229789"):
        assert mainland_id_check_digit(first17) == iso7064_check_char(first17)
    with pytest.raises(ValueError):
        mainland_id_check_digit("123")


# --- Huatuo JSONL ---------------------------------------------------------------------------


def test_huatuo_jsonl_records(tmp_path):
    path = write_huatuo_jsonl(tmp_path / "huatuo.jsonl", 200, seed=0)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 200
    for line in lines:
        record = json.loads(line)
        assert set(record) == {"questions", "answers"}
        assert 2 <= len(record["questions"]) <= 3
        assert len(set(record["questions"])) == len(record["questions"])
        assert 1 <= len(record["answers"]) <= 2
        assert all(isinstance(text, str) and text for text in record["questions"] + record["answers"])
    assert "\\u" not in lines[0]  # stored as readable UTF-8, not ASCII escapes


def test_huatuo_jsonl_is_deterministic(tmp_path):
    first = write_huatuo_jsonl(tmp_path / "a.jsonl", 100, seed=5).read_bytes()
    again = write_huatuo_jsonl(tmp_path / "b.jsonl", 100, seed=5).read_bytes()
    other = write_huatuo_jsonl(tmp_path / "c.jsonl", 100, seed=6).read_bytes()
    assert first == again != other


# --- helpers --------------------------------------------------------------------------------


def _encodes(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _edit_distance_at_most_2(left: str, right: str) -> bool:
    if abs(len(left) - len(right)) > 2:
        return False
    previous = list(range(len(right) + 1))
    for i, left_char in enumerate(left, 1):
        current = [i]
        for j, right_char in enumerate(right, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (left_char != right_char)))
        if min(current) > 2:
            return False
        previous = current
    return previous[-1] <= 2
