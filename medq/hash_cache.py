"""Content hashes of large files (model weights), computed once and remembered by path, size, mtime and inode.

Names and sizes do not identify weights: a fine-tuned checkpoint has the same files and shapes as its base. Hashing
64 GB on every run is not an option either, so each file's SHA-256 is kept in a small JSON cache and reused while
the file's (size, mtime_ns, inode) is unchanged; any rewrite of the file changes its mtime and forces a re-hash.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from medq.artifacts import sha256_file, write_json_atomic

log = logging.getLogger(__name__)
_LOCK = threading.Lock()


def default_cache_file() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "medq" / "file-hashes.json"


def _load(cache_file: Path) -> dict[str, dict]:
    try:
        data = json.loads(cache_file.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):  # absent or damaged: it is only a cache
        return {}


def file_sha256(path: Path | str, cache_file: Path | str | None = None) -> str:
    """SHA-256 of `path`'s bytes, from the cache when the file is unchanged since it was last hashed."""
    path = Path(path).resolve()
    cache_file = Path(cache_file) if cache_file else default_cache_file()
    stat = path.stat()
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "inode": stat.st_ino}
    with _LOCK:
        entry = _load(cache_file).get(str(path))
        if entry and {k: entry.get(k) for k in stamp} == stamp:
            return entry["sha256"]
    log.info("hashing %s (%.1f MB, once per change)", path, stat.st_size / 1e6)
    digest = sha256_file(path)
    with _LOCK:
        entries = _load(cache_file)  # re-read: another process may have added entries meanwhile
        entries[str(path)] = {**stamp, "sha256": digest}
        try:
            write_json_atomic(cache_file, entries)
        except OSError as exc:  # a read-only home must not stop indexing; the hash is still correct
            log.warning("cannot write the file-hash cache %s: %s", cache_file, exc)
    return digest
