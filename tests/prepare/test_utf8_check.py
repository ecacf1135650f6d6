"""The fast UTF-8 check (Arrow's validator, a file in chunks) accepts exactly what Python's strict codec decodes."""

import random

import pytest

from medq.prepare import encoding
from medq.prepare.encoding import detect_encoding, valid_utf8


def python_accepts(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# edge cases of RFC 3629 and of Python's codec: overlong forms, surrogates, past U+10FFFF, truncated sequences
EDGES = [b"", b"a", "头痛".encode(), "\U0010ffff".encode(), b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80",
         b"\xed\x9f\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xff", b"\x80", b"\xe4\xbd", b"\xef\xbb\xbf"]


def test_valid_utf8_agrees_with_python_on_edge_cases_and_random_bytes():
    rng = random.Random(0)
    text = "头痛三天，体温39℃ fever 😷\n".encode()
    cases = list(EDGES)
    for _ in range(3000):  # valid text with a few bytes changed, and plain random bytes
        mutated = bytearray(text)
        for _ in range(rng.randint(0, 2)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        cases += [bytes(mutated), bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))]
    assert [valid_utf8(c) for c in cases] == [python_accepts(c) for c in cases]
    assert any(python_accepts(c) for c in cases) and not all(python_accepts(c) for c in cases)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7])
def test_a_file_checked_in_chunks_splits_no_character(tmp_path, monkeypatch, chunk):
    # tiny chunks put a chunk boundary inside every multi-byte character at some point
    monkeypatch.setattr(encoding, "_CHUNK_UTF8", chunk)
    good = "question_id,content\n1,头痛😷\n".encode()
    for name, data in {"good": good, "bad_middle": good[:25] + b"\xff" + good[25:],
                       "truncated_end": good + "痛".encode()[:2], "gbk": "头痛三天了怎么办".encode("gbk")}.items():
        path = tmp_path / f"{name}.csv"
        path.write_bytes(data)
        assert encoding._utf8_file_is_valid(path) == python_accepts(data), name
    assert detect_encoding(tmp_path / "good.csv") == "utf-8" and detect_encoding(tmp_path / "gbk.csv") == "gbk"
