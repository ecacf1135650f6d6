"""scripts/opensearch.sh run as root: the service user must reach the node's files, wherever the clone sits."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                                reason="the service-user path is taken only when the script runs as root")


def node_dir(home: Path, service_home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MEDQ_OPENSEARCH_HOME": str(home), "MEDQ_OPENSEARCH_SERVICE_HOME": str(service_home)}
    return subprocess.run(["bash", str(REPO / "scripts" / "opensearch.sh"), "node-dir"], env=env,
                          capture_output=True, text=True, timeout=60, check=True)


def test_a_home_the_service_user_cannot_enter_moves_the_node_files_and_says_so(tmp_path):
    closed = tmp_path / "root-home"  # like /root: 700, owned by root
    closed.mkdir(mode=0o700)
    service = tmp_path / "service"
    tmp_path.chmod(0o755)
    result = node_dir(closed / "repo" / ".opensearch", service)
    assert result.stdout.strip() == str(service)
    assert "cannot enter" in result.stderr and str(service) in result.stderr


def test_a_reachable_home_is_used_as_is():
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="medq-opensearch-open-", dir="/tmp"))  # /tmp is open to every user
    try:
        base.chmod(0o755)
        home = base / "repo" / ".opensearch"
        result = node_dir(home, base / "service")
        assert result.stdout.strip() == str(home) and "cannot enter" not in result.stderr
    finally:
        shutil.rmtree(base)
