"""The stage's JSONL writers write and hash in a second thread: what they write, and an error there, reach the
stage."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pytest

from medq.prepare.stage import _JsonlWriters


def test_lines_blocks_and_records_land_in_order_with_their_hash(tmp_path):
    writers = _JsonlWriters(tmp_path, ["a", "b"])
    writers.write_line("a", b"1\n")
    writers.write_block("a", pa.array([b"2\n", b"3\n", b"4\n"]).slice(1), 2)  # an offset slice: 3 and 4
    writers.write("b", {"k": "值"})
    for i in range(5, 2000):
        writers.write_line("a", f"{i}\n".encode())
    writers.close()
    data = (tmp_path / "a.jsonl").read_bytes()
    assert data == b"1\n3\n4\n" + b"".join(f"{i}\n".encode() for i in range(5, 2000))
    assert writers.sha256("a") == hashlib.sha256(data).hexdigest() and writers.counts["a"] == 1998
    assert (tmp_path / "b.jsonl").read_text(encoding="utf-8") == '{"k":"值"}\n'


def test_a_failed_write_in_the_writer_thread_is_raised_to_the_stage(tmp_path):
    writers = _JsonlWriters(tmp_path, ["a"])

    class DiskFull:
        def write(self, data):
            raise OSError(28, "No space left on device")

        def close(self):
            pass

    writers.handles["a"].close()
    writers.handles["a"] = DiskFull()
    writers.write_line("a", b"x\n")
    with pytest.raises(OSError, match="No space left on device"):
        writers.close()
    assert not writers._thread.is_alive()


@pytest.mark.parametrize("lines", [0, 1, 2, 5])
def test_write_file_appends_the_first_lines_of_a_part(tmp_path, lines):
    from medq.prepare.stage import _JsonlWriters

    part = tmp_path / "part"
    part.write_bytes(b"a\nbb\nccc\nd\ne\n")
    writers = _JsonlWriters(tmp_path, ["x"])
    writers.write_line("x", b"first\n")
    writers.write_file("x", part, lines, 5)
    writers.close()
    assert (tmp_path / "x.jsonl").read_bytes() == b"first\n" + b"".join(b"a\nbb\nccc\nd\ne\n".splitlines(True)[:lines])
    assert writers.counts["x"] == 1 + lines
