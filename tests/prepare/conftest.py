"""One local Ray cluster for the tests marked `ray`: a head node and a second worker node on 127.0.0.1, started with
`ray start --block` in their own process groups and stopped by those groups' ids."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from medq.serve.launcher import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def ray_cluster():
    try:
        import ray
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("ray is not installed (scripts/install.sh --dev installs the `ray` extra)")
        pytest.skip("ray is not installed (pip install -c constraints.txt 'ray[data]')")
    ray_bin = str(Path(sys.executable).parent / "ray")
    port = free_port()
    temp = tempfile.mkdtemp(prefix="medq-ray-", dir="/tmp")  # Ray's socket paths must stay short
    common = ["--block", "--num-cpus=1", "--node-ip-address=127.0.0.1", "--object-store-memory=150000000",
              "--disable-usage-stats"]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    nodes = [subprocess.Popen([ray_bin, "start", "--head", f"--port={port}", "--include-dashboard=false",
                               f"--temp-dir={temp}", *common], start_new_session=True, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:  # the head's GCS answers
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or nodes[0].poll() is not None:
                    raise RuntimeError("the Ray head node did not start")
                time.sleep(1)
        nodes.append(subprocess.Popen([ray_bin, "start", f"--address={address}", *common], start_new_session=True,
                                      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        ray.init(address=address, log_to_driver=False, configure_logging=False,
                 runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
        while len([n for n in ray.nodes() if n["Alive"]]) < 2:
            if time.time() > deadline or nodes[1].poll() is not None:
                raise RuntimeError("the second Ray node did not join")
            time.sleep(1)
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for node in reversed(nodes):
            try:
                os.killpg(node.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for node in nodes:
            try:
                node.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(node.pid, signal.SIGKILL)
