"""Starting and stopping real server processes: health wait, start-up failure, timeout, stop by process group."""

from __future__ import annotations

import os
import re
import time

import pytest

from medq.errors import MedqError
from medq.serve import TransformersServer
from medq.serve.launcher import ServerProcess, free_port, process_group_alive
from tests.fixtures.openai_replay import command, spawn, write_script


def running(pid: int) -> bool:
    """Exists and is not a zombie (an exited child whose new parent, init here, has not reaped it yet)."""
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_stop_ends_the_whole_process_group(tmp_path):
    process = spawn(tmp_path, {"draft": {"default": {"content": "好的。"}}}, spawn_child=True)
    deadline = time.monotonic() + 30
    while "child pid" not in (tmp_path / "server.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    child = int(re.search(r"child pid (\d+)", (tmp_path / "server.log").read_text()).group(1))
    leader = process.pid
    assert os.getpgid(child) == leader, "the child runs in the server's own process group"
    process.stop()
    assert not process_group_alive(leader)
    assert not running(child) and not running(leader), "no orphan left behind"


def test_startup_timeout_names_the_key_and_stops_the_server(tmp_path):
    port = free_port()
    process = ServerProcess("replay server", command(port, write_script(tmp_path, {}), healthy_after_s=600),
                            dict(os.environ), tmp_path / "server.log", f"http://127.0.0.1:{port}/health",
                            startup_timeout_s=3)
    process.start()
    with pytest.raises(MedqError, match=r"not healthy .* within 3 s \(startup_timeout_s\)") as info:
        process.wait_healthy()
    assert str(tmp_path / "server.log") in str(info.value) and "\n" not in str(info.value)
    assert not process_group_alive(process.pid)


def test_bad_model_path_is_one_line_error_with_the_log_tail(tmp_path):
    """A real `transformers serve` pointed at a folder with no model exits; the error quotes its log."""
    missing = tmp_path / "no_such_model"
    server = TransformersServer(startup_timeout_s=300)
    launch = server.launch(missing, None, {}, tmp_path / "run")
    process = server.process(launch, tmp_path / "run")
    process.start()
    with pytest.raises(MedqError, match="transformers server exited with code") as info:
        process.wait_healthy()
    message = str(info.value)
    assert "\n" not in message and str(tmp_path / "run" / "server.log") in message
    assert "no_such_model" in message, "the log tail names what it could not load"
    assert not process_group_alive(process.pid)


def test_missing_vllm_environment_names_the_fix(tmp_path):
    from medq.errors import ConfigError
    from medq.serve import VLLMServer

    with pytest.raises(ConfigError, match=r"scripts/install.sh --vllm.*serve=transformers"):
        VLLMServer(python=str(tmp_path / "nope" / "python")).launch(tmp_path, None, {}, tmp_path / "run")
