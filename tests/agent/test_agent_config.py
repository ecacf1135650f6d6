"""conf/agent/default.yaml is the agent's schema: it validates against MedicalAgent.from_config, a misspelt key
fails naming it, and the partial node builds a working agent (the endpoint given at call time, as agent_eval and
the API do). The model is the scripted OpenAI-protocol replay server (a real local HTTP server)."""

from __future__ import annotations

import hydra.utils
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from medq.config import config_dirs, validate_target_node
from medq.errors import ConfigError
from tests.agent.turn_helpers import PASS, SAFE_SORE_THROAT, scripted, scripted_server  # noqa: F401


def agent_node(tmp_path, **overrides):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dirs()[0]), version_base="1.3"):
        config = compose("config", overrides=["+agent=default", f"paths.root_dir={tmp_path}"])
    OmegaConf.set_struct(config, False)  # let the typo tests add keys the schema check must then refuse
    config = OmegaConf.merge(config, {"agent": overrides})
    return OmegaConf.to_container(config, resolve=True)["agent"]


def test_the_shipped_agent_config_validates_and_builds_a_working_agent(tmp_path, scripted):
    node = agent_node(tmp_path)
    validate_target_node("agent", node)
    assert node["memory"]["url"] == f"sqlite:///{tmp_path}/agent/memory.db"   # conf/agent/memory/sqlite.yaml
    assert node["privacy"]["patient_text_in_logs"] is False

    build = hydra.utils.instantiate(node, _convert_="all")
    agent = build(endpoint={"base_url": scripted.base_url, "model": "replay", "max_retries": 0},
                  tracing={"enabled": False})
    try:
        agent.store.create_patient("default", "p1")
        scripted.script("draft", default={"content": SAFE_SORE_THROAT})
        scripted.script("critic", default=PASS)
        result = agent.respond("p1", "s1", "这两天咽喉肿痛，有点发热，吃什么药好？")
        # no index configured: nothing can be cited, and with citations.required the draft is withheld
        assert result.outcome == "fallback" and any(f["layer"] == "citations" for f in result.findings)
        assert result.refine_rounds == 2 and len(scripted.kinds()) == 6   # 3 drafts, 3 critic calls
        assert set(result.versions) == {"model", "template", "lexicon", "index"} and result.versions["index"] == "none"
        assert {t.name for t in agent._agent.tools} == {"bmi", "drug_lookup"}   # no triage_model configured
    finally:
        agent.store.close()


@pytest.mark.parametrize("override, key", [
    ({"turn": {"refine": {"max_round": 1}}}, "agent.turn.refine.max_round"),
    ({"endpiont": {}}, "agent.endpiont"),
    ({"privacy": {"patient_text_in_log": True}}, "agent.privacy.patient_text_in_log"),
])
def test_a_misspelt_agent_key_fails_naming_it(tmp_path, override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        validate_target_node("agent", agent_node(tmp_path, **override))


def test_a_remote_endpoint_needs_the_explicit_switch(tmp_path):
    build = hydra.utils.instantiate(agent_node(tmp_path), _convert_="all")
    with pytest.raises(ConfigError, match="allow_remote_endpoint"):
        build(endpoint={"base_url": "http://10.1.2.3:8000/v1", "model": "x"})
