"""The review's plain words (medq/agent/review.py): a finding is described by the sentence its rule wrote, and the
fallback says why without the draft."""

from medq.agent.auditor import ContraindicationAuditor
from medq.agent.facts import PatientProfile
from medq.agent.knowledge import Lexicon
from medq.agent.review import FALLBACK_HEAD, REFERRAL, Problem, describe_finding, fallback_reply


def test_a_finding_is_described_by_its_rules_own_sentence():
    profile = PatientProfile.from_case({"medications": ["华法林"]}, "msg-1")
    findings = ContraindicationAuditor(Lexicon.load()).audit("可以吃布洛芬。", profile).findings
    finding = next(f for f in findings if f.rule == "interaction")
    assert finding.reason and describe_finding(finding) == finding.reason
    assert describe_finding(finding.as_dict()) == finding.reason     # the same finding as the API stores it


def test_a_finding_without_a_sentence_names_drug_and_fact_in_plain_words():
    words = describe_finding({"drug": "布洛芬", "rule": "some_custom_rule", "fact_value": "华法林"})
    assert words.startswith("建议中的布洛芬不适合您") and "华法林" in words
    assert "some_custom_rule" not in words    # a rule's key is no wording for a patient


def test_the_fallback_lists_reasons_once_and_ends_with_the_referral():
    problems = [Problem("auditor", "布洛芬与华法林合用增加出血风险。"), Problem("citations", "第1句没有证据支持", quote="草稿句子"),
                Problem("citations", "第2句没有证据支持", quote="另一句")]
    reply = fallback_reply(problems)
    assert reply.startswith(FALLBACK_HEAD) and reply.endswith(REFERRAL)
    assert reply.count("部分内容没有找到可靠的资料依据") == 1 and "草稿句子" not in reply and "另一句" not in reply
