"""What the probe tests of the knowledge rounds share: one auditor over the shipped knowledge for the whole session,
a draft audited for a profile given as keywords, and the rule rows that block in a result."""

from __future__ import annotations

from functools import lru_cache

from medq.agent.auditor import AuditResult, ContraindicationAuditor
from medq.agent.facts import PatientProfile
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
