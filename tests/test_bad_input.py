"""Bad input: a clear one-line error naming the file and the row, byte or column; nothing half-written."""

import pytest

from medq.errors import InputDataError
from medq.prepare.sources import CMedQA2Source, CsvSource, JsonlSource

from .conftest import run_medq
from tests.prepare.helpers import read_jsonl, run_prepare, write_csv


def test_missing_file(tmp_path):
    with pytest.raises(InputDataError, match=r"nope\.csv: file not found"):
        CsvSource(str(tmp_path / "nope.csv"), ["q"], "a")


def test_empty_file_and_header_only_file(tmp_path):
    with pytest.raises(InputDataError, match=r"empty\.csv: file is empty"):
        CsvSource(str(write_csv(tmp_path / "empty.csv", "")), ["q"], "a")
    source = CsvSource(str(write_csv(tmp_path / "header.csv", "q,a\n")), ["q"], "a")
    with pytest.raises(InputDataError, match=r"header\.csv: header only, no data rows"):
        list(source.items())


def test_misnamed_column_names_the_column_and_what_was_found(tmp_path):
    path = write_csv(tmp_path / "answers.csv", "ans_id,questionid,content\n1,1,答\n")
    questions = write_csv(tmp_path / "questions.csv", "question_id,content\n1,问\n")
    with pytest.raises(InputDataError, match=r"answers\.csv: missing column\(s\) 'question_id' \(found 'questionid'\)"):
        CMedQA2Source(str(questions), str(path)).answers.rows().__next__()


def test_wrong_delimiter_is_named(tmp_path):
    path = write_csv(tmp_path / "semi.csv", "q;a\n头痛;休息\n")
    with pytest.raises(InputDataError, match=r"semi\.csv: header has 1 column 'q;a': the file seems delimited by ';'"):
        list(CsvSource(str(path), ["q"], "a").items())
    rows = list(CsvSource(str(path), ["q"], "a", delimiter=";").items())
    assert rows[0].prompt == "头痛"


def test_undecodable_bytes_name_the_byte_offset_and_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes("q,a\n头痛,休息\n".encode("utf-8") + b"\x81\xff\xfe,x\n")
    offset = len("q,a\n头痛,休息\n".encode("utf-8"))
    with pytest.raises(InputDataError, match=rf"bad\.csv: undecodable bytes \(81 ff fe 2c\): utf-8 fails at byte offset {offset} \(line 3\)"):
        CsvSource(str(path), ["q"], "a")


def test_malformed_row_errors_by_default_and_is_rejected_when_skipping(tmp_path):
    path = write_csv(tmp_path / "rows.csv", "q,a\n头痛怎么办,多休息，注意睡眠\n只有一列\n发烧怎么办,多喝水,多余\n咳嗽怎么办,多喝水，观察体温\n")
    with pytest.raises(InputDataError, match=r"rows\.csv: line 3: expected 2 fields \(q,a\), found 1"):
        run_prepare(tmp_path / "strict", CsvSource(str(path), ["q"], "a"))
    _, card = run_prepare(tmp_path / "lenient", CsvSource(str(path), ["q"], "a"), on_bad_record="skip",
                          save_hf_dataset=False)
    assert card["records_in"] == 4 and card["records_out"] == 2 and card["rejected"] == {"malformed_row": 2}
    assert [r["where"] for r in read_jsonl(tmp_path / "lenient" / "rejects.jsonl")] == ["rows.csv:3", "rows.csv:4"]


def test_invalid_json_line(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_text('{"questions": ["头痛"], "answers": ["休息"]}\n{"questions": ["坏\n{"answers": ["只有答案"]}\n', encoding="utf-8")
    with pytest.raises(InputDataError, match=r"h\.jsonl: line 2: invalid JSON"):
        list(JsonlSource(str(path)).items())
    items = list(JsonlSource(str(path)).items(on_bad_record="skip"))
    assert [getattr(i, "reason", "ok") for i in items] == ["ok", "malformed_row", "malformed_row"]
    assert "missing field 'questions'" in items[2].detail


def test_cli_bad_input_exits_non_zero_with_one_line_and_writes_nothing(workdir):
    bad = write_csv(workdir / "semi.csv", "department;title;ask;answer\n内科;头痛;头痛怎么办;休息\n")
    result = run_medq(["+recipe=prepare_dialogue", f"prepare.source.path={bad}"], cwd=workdir)
    assert result.returncode == 1
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("medq: error:")]
    assert error_lines == [f"medq: error: {bad}: header has 1 column 'department;title;ask;answer': the file seems "
                           f"delimited by ';', not ',' (set prepare.source.delimiter)"], result.stderr
    assert "Traceback" not in result.stderr
    stage_dir = workdir / "artifacts" / "prepare"
    assert not stage_dir.exists() or not any(stage_dir.iterdir()), "nothing may be half-written"


def test_cli_missing_file_names_its_config_key(workdir):
    answers = write_csv(workdir / "answers.csv", "ans_id,question_id,content\n1,1,休息\n")
    result = run_medq(["+recipe=prepare_cmedqa2", f"prepare.source.questions_path={workdir}/questions.csv",
                       f"prepare.source.answers_path={answers}"], cwd=workdir)
    assert result.returncode == 1
    assert (f"medq: error: config key 'prepare.source.questions_path' = '{workdir}/questions.csv': no such file: "
            f"{workdir}/questions.csv.") in result.stderr
