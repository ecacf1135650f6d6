"""BGEM3Embedder.fingerprint names the weights by content, hashing each file once per change."""

from __future__ import annotations

import json
import os

import pytest

import medq.hash_cache
from medq.rag import BGEM3Embedder


@pytest.fixture
def model_dir(tmp_path):
    folder = tmp_path / "bge-m3"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"hidden_size": 8}), encoding="utf-8")
    (folder / "model.safetensors").write_bytes(b"\x01" * 4096)
    (folder / "README.md").write_text("notes", encoding="utf-8")
    return folder


@pytest.fixture
def hashed_files(monkeypatch):
    seen = []
    original = medq.hash_cache.sha256_file
    monkeypatch.setattr(medq.hash_cache, "sha256_file", lambda path: seen.append(path.name) or original(path))
    return seen


def test_a_fine_tuned_checkpoint_of_the_same_shape_gets_a_new_fingerprint(model_dir, tmp_path, hashed_files):
    cache = tmp_path / "hashes.json"
    embedder = BGEM3Embedder(str(model_dir), hash_cache=str(cache))
    before = embedder.fingerprint()
    (model_dir / "model.safetensors").write_bytes(b"\x02" * 4096)  # same name, same size, other weights
    assert BGEM3Embedder(str(model_dir), hash_cache=str(cache)).fingerprint() != before
    (model_dir / "README.md").write_text("other notes", encoding="utf-8")
    (model_dir / "model.safetensors").write_bytes(b"\x01" * 4096)
    assert BGEM3Embedder(str(model_dir), hash_cache=str(cache)).fingerprint() == before, "README does not count"


def test_each_file_is_hashed_once_until_it_changes(model_dir, tmp_path, hashed_files):
    cache = tmp_path / "hashes.json"
    first = BGEM3Embedder(str(model_dir), hash_cache=str(cache)).fingerprint()
    assert sorted(hashed_files) == ["config.json", "model.safetensors"]
    hashed_files.clear()
    assert BGEM3Embedder(str(model_dir), hash_cache=str(cache)).fingerprint() == first
    assert hashed_files == [], "unchanged files come from the cache"
    stored = json.loads(cache.read_text(encoding="utf-8"))
    assert {os.path.basename(p) for p in stored} == {"config.json", "model.safetensors"}
    weights = model_dir / "model.safetensors"
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # touched: re-hashed
    assert BGEM3Embedder(str(model_dir), hash_cache=str(cache)).fingerprint() == first
    assert hashed_files == ["model.safetensors"]


def test_a_damaged_cache_is_ignored(model_dir, tmp_path, hashed_files):
    cache = tmp_path / "hashes.json"
    cache.write_text("{not json", encoding="utf-8")
    fingerprint = BGEM3Embedder(str(model_dir), hash_cache=str(cache)).fingerprint()
    assert fingerprint.startswith("bge-m3:bge-m3:") and len(hashed_files) == 2
    assert json.loads(cache.read_text(encoding="utf-8"))
