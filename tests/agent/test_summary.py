"""Summary memory (medq/agent/summary.py): the token estimate and which turns a prompt repeats or folds away."""

from medq.agent.memory.records import TurnRecord
from medq.agent.summary import dialogue_in_budget, estimate_tokens, turns_over_budget


def test_token_budget_picks_the_oldest_turns_to_summarise():
    assert estimate_tokens("我对青霉素过敏") == 7 and estimate_tokens("abcdefgh") == 2
    turns = [TurnRecord("s", i, f"m{i}", "问" * 10, "答" * 10, "") for i in range(1, 6)]  # 20 tokens each
    assert turns_over_budget(turns, 100) == []
    assert [t.seq for t in turns_over_budget(turns, 45)] == [1, 2, 3]
    assert [t.seq for t in turns_over_budget(turns, 5)] == [1, 2, 3, 4]  # the newest turn always stays


def test_the_prompt_repeats_exactly_the_turns_the_summary_does_not_cover():
    turns = [TurnRecord("s", i, f"m{i}", "问" * 10, "答" * 10, "") for i in range(1, 6)]
    for budget in (5, 45, 100):
        kept = dialogue_in_budget(turns, budget)
        assert turns_over_budget(turns, budget) + kept == turns
    assert [t.seq for t in dialogue_in_budget(turns, 45)] == [4, 5]
