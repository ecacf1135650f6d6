"""Content hashing and atomic writes: the one mechanism every stage uses for its outputs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_path(path: Path) -> str:
    """Hash of a file, or of a directory as the sorted (relative path, file hash) list."""
    path = Path(path)
    if path.is_file():
        return sha256_file(path)
    if not path.is_dir():
        raise FileNotFoundError(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode())
        digest.update(b"\0")
        digest.update(sha256_file(file).encode())
    return digest.hexdigest()


def stat_fingerprint(paths: Iterable[Path]) -> dict[str, tuple[int, int]]:
    """{file: (mtime_ns, size)} of the files, and of every file under the folders, among `paths`: a cheap way to
    see that something changed between two moments without hashing it again (a missing path maps to (-1, -1))."""
    out: dict[str, tuple[int, int]] = {}
    for path in map(Path, paths):
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            try:
                stat = file.stat()
                out[str(file)] = (stat.st_mtime_ns, stat.st_size)
            except FileNotFoundError:
                out[str(file)] = (-1, -1)
    return out


def sha256_json(value: Any) -> str:
    encoded = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary sibling path; it replaces `target` only if the block succeeds.

    A file replaces the old one with one rename(2). A directory is published with `publish_directory` (versioned
    folder + symlink swap), so readers see the old or the new folder and never a missing one.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    staged = tmp / target.name
    try:
        yield staged
        if staged.is_dir() and not staged.is_symlink():
            publish_directory(staged, target)
        else:
            os.replace(staged, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# Publishing a folder atomically. POSIX cannot rename a directory over a non-empty one, and "delete old, rename
# new" leaves a moment with no folder at all. So a published folder is a symlink to an immutable version folder:
#   <target>                 -> <versions dir>/<version>       (relative link, so the tree can be moved)
# Replacing it writes a new version, makes a new link beside <target> and renames the link over <target>; rename(2)
# of a symlink over a symlink is atomic, so a reader resolves either the old or the new version. A replaced version
# is deleted only once it is neither current nor the one just replaced, and was replaced more than `grace_s` ago (a
# reader may have resolved the link a moment before a swap and still be walking that folder); pinned versions (e.g.
# registered in a model registry that points at their path) are never deleted.
_PIN_SUFFIX = ".pinned"
_REPLACED_SUFFIX = ".replaced"   # its mtime: when the version stopped being current
REPLACED_GRACE_S = 60.0


def default_versions_dir(target: Path) -> Path:
    return Path(target).parent / f".{Path(target).name}.versions"


def publish_directory(staged: Path, target: Path, versions_dir: Path | None = None,
                      grace_s: float = REPLACED_GRACE_S) -> Path:
    """Move the folder `staged` into a new version and point `target` at it atomically; returns the version path."""
    staged, target = Path(staged), Path(target)
    versions_dir = Path(versions_dir) if versions_dir is not None else default_versions_dir(target)
    versions_dir.mkdir(parents=True, exist_ok=True)
    version = versions_dir / f"{target.name}.{time.strftime('%Y%m%dT%H%M%S')}.{uuid.uuid4().hex[:8]}"
    os.replace(staged, version)
    previous = target.resolve() if target.is_symlink() else None
    if target.is_dir() and not target.is_symlink():
        # a folder published before versioning: adopt it as a version first (the one non-atomic step, once)
        legacy = versions_dir / f"{target.name}.legacy.{uuid.uuid4().hex[:8]}"
        os.replace(target, legacy)
        previous = legacy
    link = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.link"
    os.symlink(os.path.relpath(version, target.parent), link, target_is_directory=True)
    os.replace(link, target)
    if previous is not None and previous.is_dir():
        (previous.parent / f"{previous.name}{_REPLACED_SUFFIX}").touch()
    now = time.time()
    for old in versions_dir.glob(f"{target.name}.*"):
        replaced = old.parent / f"{old.name}{_REPLACED_SUFFIX}"
        if not old.is_dir() or old in (version, previous) or is_pinned(old) or not replaced.is_file():
            continue
        if now - replaced.stat().st_mtime >= grace_s:
            shutil.rmtree(old, ignore_errors=True)
            replaced.unlink(missing_ok=True)
    return version


def pin_version(path: Path, reason: str) -> Path:
    """Keep the version folder behind `path` when it is replaced later (something outside refers to its path)."""
    version = Path(path).resolve()
    marker = version.parent / f"{version.name}{_PIN_SUFFIX}"
    marker.write_text(json.dumps({"reason": reason}, ensure_ascii=False) + "\n", encoding="utf-8")
    return version


def is_pinned(version: Path) -> bool:
    return (version.parent / f"{version.name}{_PIN_SUFFIX}").is_file()


def write_json_atomic(target: Path, value: Any) -> Path:
    with atomic_path(target) as staged:
        staged.write_text(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    return Path(target)


def write_text_atomic(target: Path, text: str) -> Path:
    with atomic_path(target) as staged:
        staged.write_text(text, encoding="utf-8")
    return Path(target)
