"""Summary memory (medq/agent/summary.py): the token estimate and which turns a prompt repeats or folds away."""

from medq.agent.memory.records import TurnRecord
from medq.agent.summary import TokenEstimate, dialogue_in_budget, estimate_tokens, turns_over_budget

TEXT_ONLY = TokenEstimate(message=0)


def test_token_budget_picks_the_oldest_turns_to_summarise():
    assert estimate_tokens("我对青霉素过敏") == 7 and estimate_tokens("abcdefgh") == 2
    turns = [TurnRecord("s", i, f"m{i}", "问" * 10, "答" * 10, "") for i in range(1, 6)]  # 20 tokens of text each
    assert turns_over_budget(turns, 100, TEXT_ONLY) == []
    assert [t.seq for t in turns_over_budget(turns, 45, TEXT_ONLY)] == [1, 2, 3]
    assert [t.seq for t in turns_over_budget(turns, 5, TEXT_ONLY)] == [1, 2, 3, 4]  # the newest turn always stays
    # the chat template's tokens count too (8 a message by default): 36 a turn, two fit in 100
    assert [t.seq for t in turns_over_budget(turns, 100)] == [1, 2, 3]


def test_the_estimate_takes_the_tokenizer_s_figures():
    tiny = TokenEstimate(cjk_char=1.25, other_char=1.0, message=14)
    assert tiny("我对青霉素过敏") == 9 and tiny("abcdefgh") == 8 and TokenEstimate(cjk_char=1.1)("问" * 10) == 11
    assert tiny.turn(TurnRecord("s", 1, "m1", "问" * 4, "答" * 4, "")) == 10 + 28
    text = "咽喉肿痛多为病毒感染引起abc"
    for budget in range(0, 20):
        cut = tiny.prefix(text, budget)
        assert tiny(cut) <= budget and (cut == text or tiny(text[:len(cut) + 1]) > budget)


def test_the_prompt_repeats_exactly_the_turns_the_summary_does_not_cover():
    turns = [TurnRecord("s", i, f"m{i}", "问" * 10, "答" * 10, "") for i in range(1, 6)]
    for budget in (5, 45, 100):
        kept = dialogue_in_budget(turns, budget, TEXT_ONLY)
        # the same turns by number (a newest turn over the budget comes cut: the last test)
        assert [t.seq for t in turns_over_budget(turns, budget, TEXT_ONLY) + kept] == [t.seq for t in turns]
    assert [t.seq for t in dialogue_in_budget(turns, 45, TEXT_ONLY)] == [4, 5]


def test_a_newest_turn_over_the_budget_is_cut_to_fit_not_repeated_whole():
    tiny = TokenEstimate(cjk_char=1.25, other_char=1.0, message=14)
    long_turn = TurnRecord("s", 7, "m7", "咳" * 120, "答" * 200, "")
    for budget in (40, 100, 160, 400):
        kept = dialogue_in_budget([long_turn], budget, tiny)
        assert len(kept) == 1 and tiny.turn(kept[0]) <= budget and kept[0].seq == 7
        assert kept[0].user_text.rstrip("……") in long_turn.user_text and kept[0].assistant_text.endswith("……")
    assert dialogue_in_budget([long_turn], 20, tiny) == []          # not even the template's 28 tokens fit
    assert turns_over_budget([long_turn], 100, tiny) == []          # summary memory still keeps it
