"""Decide how a text file is encoded, reading all of it, and name the exact byte that breaks a candidate.

GB2312 is never tried: real GBK files contain characters that GB2312 rejects. GBK is tried before GB18030
(its superset) so the recorded encoding is the narrowest one that decodes the whole file.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from medq.errors import InputDataError

CANDIDATES = ("utf-8", "gbk", "gb18030")
_CHUNK = 1 << 20


def _first_error(path: Path, encoding: str) -> tuple[int, int] | None:
    """(byte offset, line number) of the first undecodable byte, or None if the whole file decodes."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset, lines = 0, 1
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            final = not chunk
            pending = len(decoder.getstate()[0])  # bytes of a split character carried from the last chunk
            try:
                decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                bad = max(0, offset - pending + exc.start)
                with open(path, "rb") as again:
                    lines += again.read(bad).count(b"\n")
                return bad, lines
            if final:
                return None
            offset += len(chunk)


def detect_encoding(path: Path, declared: str = "auto") -> str:
    """Return the Python codec name to read `path` with ('utf-8-sig' when it has a BOM)."""
    path = Path(path)
    if not path.is_file():
        raise InputDataError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise InputDataError(f"{path}: file is empty (0 bytes)")
    candidates: tuple[str, ...]
    if declared != "auto":
        if codecs.lookup(declared).name == "gb2312":
            raise InputDataError(f"{path}: refusing encoding gb2312 (real files hold GBK-only characters); use gbk")
        candidates = (declared,)
    else:
        with open(path, "rb") as handle:
            if handle.read(3) == codecs.BOM_UTF8:
                candidates = ("utf-8-sig",)
            else:
                candidates = CANDIDATES
    failures = []
    for encoding in candidates:
        error = _first_error(path, encoding)
        if error is None:
            return encoding
        failures.append((encoding, *error))
    with open(path, "rb") as handle:
        handle.seek(failures[-1][1])
        sample = handle.read(4).hex(" ")
    detail = "; ".join(f"{enc} fails at byte offset {off} (line {line})" for enc, off, line in failures)
    raise InputDataError(f"{path}: undecodable bytes ({sample}): {detail}")
