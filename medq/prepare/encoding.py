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
_CHUNK_UTF8 = 8 << 20


def valid_utf8(data: bytes | memoryview) -> bool:
    """Whether `data` is UTF-8 as Python's strict codec accepts it (RFC 3629: no overlong forms, no surrogates,
    nothing past U+10FFFF), checked by Arrow's validator, which builds no str and is several times faster."""
    import numpy as np
    import pyarrow as pa

    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    try:
        pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)]).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _utf8_file_is_valid(path: Path) -> bool:
    carry = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK_UTF8):
            data = carry + chunk
            # cut before the last character's lead byte, so no character is split between two checks
            cut = len(data)
            for back in range(1, min(4, len(data)) + 1):
                if data[-back] & 0xC0 != 0x80:
                    cut = len(data) - back
                    break
            if not valid_utf8(memoryview(data)[:cut]):
                return False
            carry = data[cut:]
    return valid_utf8(carry)


def _first_error(path: Path, encoding: str) -> tuple[int, int] | None:
    """(byte offset, line number) of the first undecodable byte, or None if the whole file decodes."""
    if encoding in ("utf-8", "utf-8-sig") and _utf8_file_is_valid(path):
        return None  # the usual case, checked fast; a file with an error is decoded below to say where
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
