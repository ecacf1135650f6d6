"""Erasure of a patient's agent traces in a real MLflow store (SQLite), with the agent's real tracer: only that
patient's traces go, found by the hashed patient reference the tracer writes."""

from __future__ import annotations


def test_erase_traces_deletes_only_that_patients_traces(tmp_path, monkeypatch):
    import mlflow

    from medq.agent.tracing import TracingSettings, TurnTracer
    from medq.api.erasure import erase_traces

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_tracking_uri(None)   # back to the environment's (this test's) store; nothing global left behind
    tracer = TurnTracer(settings=TracingSettings(enabled=True, experiment="api-traces"))
    for patient in ("alice", "alice", "bob"):
        with tracer.turn("clinic", patient, "s1", "我头疼"):
            with tracer.span("retrieve"):
                pass
    assert erase_traces(tracer, "clinic", "alice") == 2
    assert erase_traces(tracer, "clinic", "alice") == 0
    assert erase_traces(tracer, "other-tenant", "bob") == 0
    assert erase_traces(tracer, "clinic", "bob") == 1
    assert erase_traces(TurnTracer(settings=TracingSettings(enabled=False)), "clinic", "bob") == 0
