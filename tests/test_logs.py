"""Library chatter stays off the console: bm25s-style DEBUG loggers and FutureWarnings go to the run log only."""

import subprocess
import sys
import textwrap

from medq.tracking import MlflowTracker


def test_debug_lines_and_warnings_go_to_the_run_log_not_the_console(tmp_path):
    log_file = tmp_path / "run.log"
    script = textwrap.dedent(f"""
        import logging, sys, warnings
        from pathlib import Path
        from medq.logs import quiet_console
        noisy = logging.getLogger("bm25s"); noisy.setLevel(logging.DEBUG)   # what bm25s does at import
        quiet_console(Path({str(log_file)!r}))
        noisy.debug("Building index from tokens")
        deepspeed = logging.getLogger("DeepSpeed")   # what deepspeed.utils.logging does when imported inside a stage
        deepspeed.propagate = False; deepspeed.addHandler(logging.StreamHandler(sys.stdout))
        deepspeed.warning("Setting accelerator to CPU")
        deepspeed.error("a DeepSpeed error stays visible")
        warnings.warn("`foo` is deprecated", FutureWarning)
        httpx_log = logging.getLogger("httpx")   # one INFO line per request, e.g. the demo's model-server watch
        httpx_log.info('HTTP Request: GET http://127.0.0.1:1/v1/models "HTTP/1.1 200 OK"')
        httpx_log.error("an httpx error stays visible")
        logging.getLogger("medq.stage").info("stage progress line")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    console = done.stdout + done.stderr
    assert "stage progress line" in console
    assert "Building index" not in console and "deprecated" not in console and "accelerator" not in console
    assert "a DeepSpeed error stays visible" in console
    assert "HTTP Request" not in console and "an httpx error stays visible" in console
    run_log = log_file.read_text(encoding="utf-8")
    assert "Building index from tokens" in run_log and "FutureWarning" in run_log
    assert "Setting accelerator to CPU" in run_log
    assert run_log.count("HTTP Request: GET") == 1 and run_log.count("an httpx error stays visible") == 1


def test_mlflow_ui_command_is_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    command = MlflowTracker("sqlite:///mlruns/mlflow.db", "x").ui_command()
    assert command == f"mlflow ui --backend-store-uri sqlite:///{tmp_path.resolve()}/mlruns/mlflow.db"
    assert MlflowTracker("http://mlflow.internal:5000", "x").ui_command().endswith("http://mlflow.internal:5000")
