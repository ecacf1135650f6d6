"""A short load run in the suite (benchmarks/api_load.py runs the full 200 sessions): concurrent patients, each
stating a unique allergy in one session and asking in a second; no errors, no lost facts, no cross-patient leakage."""

from __future__ import annotations

import pytest

from benchmarks.api_load import run_load


@pytest.mark.slow
def test_concurrent_sessions_keep_every_fact_and_leak_none(api):
    report = run_load(api.base_url, api.keys["tenant-a"], patients=24, concurrency=24, prefix="load-suite")
    assert report["errors"] == [], report["errors"][:3]
    assert report["lost_facts"] == [] and report["leaks"] == []
    assert report["requests"] == 24 * 3   # two turns and a memory read per patient
