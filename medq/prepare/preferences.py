"""DPO preference pairs: the reference answer preferred over a generic one-size-fits-all reply (万金油式回复),
and cautious answers preferred over harmful ones from a safety scenario bank."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterator


@dataclass
class SafetyScenario:
    prompt: str
    cautious: str
    harmful: str


@dataclass
class PreferenceRules:
    enabled: bool = True
    max_pairs: int | None = None  # generic pairs, one per training example until this many
    generic_replies: list[str] = field(default_factory=list)
    safety_scenarios: list[SafetyScenario] = field(default_factory=list)


def _pick(options: list[str], key: str, seed: int) -> str:
    """Deterministic choice per example, independent of the order examples arrive in."""
    digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
    return options[int.from_bytes(digest, "little") % len(options)]


def _conversation(system: str, prompt: str) -> list[dict[str, str]]:
    turns = [{"role": "system", "content": system}] if system else []
    return turns + [{"role": "user", "content": prompt}]


class PreferencePairBuilder:
    """Streams pairs in TRL's conversational preference format (prompt / chosen / rejected messages)."""

    def __init__(self, rules: PreferenceRules, system_prompt: str, seed: int):
        if rules.enabled and not rules.generic_replies:
            raise ValueError("prepare.preferences.generic_replies is empty: the pair builder needs a template bank")
        self.rules, self.system_prompt, self.seed = rules, system_prompt, seed
        self.generic_pairs = 0
        self.safety_pairs_written = 0

    def generic_pair(self, example_id: str, prompt: str, reference: str) -> dict[str, Any] | None:
        if not self.rules.enabled:
            return None
        if self.rules.max_pairs is not None and self.generic_pairs >= self.rules.max_pairs:
            return None
        rejected = _pick(self.rules.generic_replies, example_id, self.seed)
        if rejected == reference:
            return None
        self.generic_pairs += 1
        return {"id": f"pair-{example_id}", "kind": "generic", "prompt": _conversation(self.system_prompt, prompt),
                "chosen": [{"role": "assistant", "content": reference}],
                "rejected": [{"role": "assistant", "content": rejected}]}

    def safety_pairs(self) -> Iterator[dict[str, Any]]:
        if not self.rules.enabled:
            return
        for index, scenario in enumerate(self.rules.safety_scenarios):
            self.safety_pairs_written += 1
            yield {"id": f"safety-{index}", "kind": "safety", "prompt": _conversation(self.system_prompt, scenario.prompt),
                   "chosen": [{"role": "assistant", "content": scenario.cautious}],
                   "rejected": [{"role": "assistant", "content": scenario.harmful}]}
