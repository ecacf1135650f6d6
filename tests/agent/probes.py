"""What the probe tests of the knowledge rounds share: one auditor and one extractor over the shipped knowledge for the
whole session, a draft audited for a profile given as keywords, the rule rows that block in a result, and the profile
messages build."""

from __future__ import annotations

from functools import lru_cache

from medq.agent.auditor import AuditResult, ContraindicationAuditor
from medq.agent.extraction import RuleBasedExtractor
from medq.agent.facts import PatientProfile, merge_facts
from medq.agent.knowledge import Lexicon


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    return Lexicon.load()


@lru_cache(maxsize=1)
def auditor() -> ContraindicationAuditor:
    return ContraindicationAuditor(lexicon())


def audit(draft: str, question: str = "", **profile) -> AuditResult:
    return auditor().audit(draft, PatientProfile.from_case(profile, "probe"), question)


def blocked_ids(result: AuditResult) -> set[str]:
    return {f.rule_id for f in result.findings if f.severity == "block"}


@lru_cache(maxsize=1)
def extractor() -> RuleBasedExtractor:
    return RuleBasedExtractor(lexicon())


def profile(*messages: str) -> PatientProfile:
    """The profile the extractor builds from messages sent one after another (each read with what came before)."""
    facts: list = []
    for number, message in enumerate(messages):
        facts = merge_facts(facts, extractor().extract(message, f"m{number}", known=facts))
    return PatientProfile.from_facts(facts)
