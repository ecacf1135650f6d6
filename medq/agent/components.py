"""Builds the agent's parts from config: the chat client, the memory store, the knowledge and what reads it
(extractor, auditor, red-flag rules), the tools, and the retriever. One place, so `MedicalAgent.from_config`, the
agent_eval stage and the API build the same agent from the same keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from medq.artifacts import sha256_file, sha256_path
from medq.errors import MedqError


@dataclass
class AgentParts:
    client: Any
    store: Any
    extractor: Any
    auditor: Any
    red_flags: Any
    retriever: Any | None
    tools: list[Any] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)


def build(endpoint: Any, memory: Any, knowledge_dir: str | None = None, index: str | None = None,
          retrieve: Any | None = None, triage_model: str | None = None, store: Any | None = None,
          auditor: Any | None = None) -> AgentParts:
    """`auditor`: conf/agent/auditor ({rules: [{_target_: ...}, ...]}); null: conf/agent/auditor/default.yaml."""
    from medq.agent.auditor import ContraindicationAuditor
    from medq.agent.extraction import RuleBasedExtractor
    from medq.agent.red_flags import detect_red_flags
    from medq.agent.tools.bmi import bmi_tool
    from medq.agent.tools.drug_lookup import drug_lookup_tool
    from medq.serve.client import ChatClient

    client = ChatClient(endpoint)
    if store is None:
        store = open_store(memory)
    from medq.agent.knowledge import DEFAULT_DIR, Lexicon

    lexicon = Lexicon.load(knowledge_dir)
    tools = [bmi_tool(), drug_lookup_tool(lexicon)]
    if triage_model:
        from medq.agent.tools.triage import triage_tool

        tools.append(triage_tool(triage_model))
    retriever = None
    versions = {"lexicon": _folder_hash(DEFAULT_DIR) + (f"+{_folder_hash(Path(knowledge_dir))}" if knowledge_dir
                                                        else ""), "index": "none"}
    if index:
        if retrieve is None:
            raise MedqError("agent.index is set but agent.retrieve is not: add the retrieve group (`- /retrieve: "
                            "default`) to the recipe")
        retriever = retrieve(index=index) if callable(retrieve) else _instantiate_partial(retrieve, index)
        versions["index"] = _file_hash(Path(index))
    rules = list(dict(auditor).get("rules") or []) if auditor else None
    return AgentParts(client, store, RuleBasedExtractor(lexicon), ContraindicationAuditor(lexicon, rules),
                      detect_red_flags,
                      retriever, tools, versions)


def open_store(memory: Any) -> Any:
    """The memory store from `agent.memory`: a store, its config node (conf/agent/memory/*.yaml, with _target_),
    or plain EntityMemoryStore keys ({url: ...})."""
    from medq.agent.memory.store import EntityMemoryStore

    if isinstance(memory, EntityMemoryStore):
        return memory
    memory = dict(memory or {})
    if not memory.get("url"):
        raise MedqError("agent.memory.url must be set (e.g. sqlite:///path/memory.db)")
    if "_target_" in memory:
        import hydra.utils

        return hydra.utils.instantiate(memory, _convert_="all")
    return EntityMemoryStore(**memory)


def _folder_hash(folder: Path) -> str:
    """The knowledge's version: a hash of its folder (the shipped files or a hospital's formulary)."""
    return sha256_path(folder)[:12]


def _instantiate_partial(config: Mapping[str, Any], index: str) -> Any:
    import hydra.utils

    return hydra.utils.instantiate(dict(config), _convert_="all")(index=index)


def _file_hash(path: Path) -> str:
    if not path.is_file():
        raise MedqError(f"agent.index = {path}: no such file (the index stage's index.json)")
    return sha256_file(path)[:12]
