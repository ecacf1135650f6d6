"""The critic's verdict parsing: only a well-formed "pass" with no problems passes; everything else is "revise"."""

from __future__ import annotations

import pytest

from medq.agent.critic import VERDICT_SCHEMA, parse_verdict


@pytest.mark.parametrize("text, verdict, parsed, passed", [
    ('{"verdict": "pass", "problems": []}', "pass", True, True),
    ('```json\n{"verdict": "pass", "problems": []}\n```', "pass", True, True),
    ('{"verdict": "block", "problems": ["推荐了过敏药物"]}', "block", True, False),
    ('{"verdict": "revise", "problems": []}', "revise", True, False),          # revise without a reason: still revise
    ('{"verdict": "pass", "problems": ["剂量没有出处"]}', "revise", True, False),   # self-contradictory pass
    ("PASS", "revise", False, False),
    ("", "revise", False, False),
    (None, "revise", False, False),
    ('["pass"]', "revise", False, False),
    ('{"verdict": "PASS", "problems": []}', "revise", False, False),
    ('{"verdict": "pass", "problems": "none"}', "revise", False, False),
    ('{"verdict": "pass", "problems": [1]}', "revise", False, False),
])
def test_parse_verdict_fails_closed(text, verdict, parsed, passed):
    result = parse_verdict(text)
    assert (result.verdict, result.parsed, result.passed) == (verdict, parsed, passed)
    if not passed:
        assert result.problems  # a held-back draft always says why


def test_the_schema_allows_exactly_the_three_verdicts():
    assert VERDICT_SCHEMA["properties"]["verdict"]["enum"] == ["pass", "revise", "block"]
    assert VERDICT_SCHEMA["required"] == ["verdict", "problems"] and not VERDICT_SCHEMA["additionalProperties"]
