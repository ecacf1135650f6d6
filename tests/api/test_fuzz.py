"""Schemathesis against the served OpenAPI schema of a real API process: no server errors (5xx) on any generated
request, valid or not; the only documented 5xx, 503 (model server down), cannot occur here because the model server
is up. The run's own reports land in test-artifacts/schemathesis/."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.conftest import REPO


@pytest.mark.slow
def test_no_server_errors_on_fuzzed_requests(api):
    reports = REPO / "test-artifacts" / "schemathesis"
    reports.mkdir(parents=True, exist_ok=True)
    st = Path(sys.executable).with_name("st")
    result = subprocess.run(
        [str(st), "run", f"{api.base_url}/schema/openapi.json", "--checks", "not_a_server_error",
         "-H", f"Authorization: Bearer {api.keys['tenant-a']}", "--max-examples", "25", "--seed", "7",
         "--request-timeout", "60", "--report", "junit", "--report-dir", str(reports), "--workers", "1"],
        capture_output=True, text=True, timeout=900, cwd=reports, env={**os.environ, "NO_COLOR": "1"})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    # it really exercised the chat endpoint and the patient endpoints, not just the health probes
    assert "POST /v1/chat/completions" in output and "DELETE /v1/patients/{patient_id}" in output, output[-3000:]
