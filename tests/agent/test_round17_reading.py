"""Round 17 reading (development sets b54-b61): a draft that endorses longer use than a row allows. The rows say it
with a span (连续使用不超过7天) or in words (不宜长期连续使用 / 避免长期使用); the draft says 长期喝也行, 可以每天…长期吃 or
gives a span past the row's (连续喷一两个月). A span within the limit, a limit the draft itself states and a warning
against long use stay what they were."""

from __future__ import annotations

from .probes import audit, blocked_ids


def test_a_span_past_the_rows_limit_blocks_a_decongestant_spray():
    assert blocked_ids(audit("鼻塞可以用羟甲唑啉喷鼻，每天两次，连续喷一两个月都没问题。", age=40)) == {"B0898"}
    assert blocked_ids(audit("赛洛唑啉滴鼻，连着用3-4周也可以。", age=35)) == {"B0899"}


def test_a_span_within_the_limit_or_stated_as_a_limit_passes():
    assert not audit("鼻塞可以用羟甲唑啉喷鼻，每天两次，连续用3天。", age=40).blocked
    assert not audit("羟甲唑啉喷鼻每天两次，连续使用不超过7天。", age=40).blocked
    assert not audit("羟甲唑啉喷鼻每天两次，最多连续用7天以内。", age=40).blocked
    assert not audit("可以用羟甲唑啉喷鼻，但不要连续用两周以上。", age=40).blocked


def test_long_use_in_words_blocks_where_the_row_limits_it_in_words():
    assert blocked_ids(audit("便秘可以用番泻叶泡水，长期喝也行。", age=50)) == {"A0076"}
    assert "B0428" in blocked_ids(audit("关节疼可以吃美洛昔康，每天7.5mg长期吃。", age=72))


def test_a_warning_against_long_use_passes():
    assert not audit("便秘可以短期用番泻叶泡水，不要长期喝。", age=50).blocked
    assert not audit("关节疼可以吃美洛昔康，每天7.5mg，但不要长期吃。", age=72).blocked
    assert not audit("关节疼可以吃美洛昔康，每天7.5mg，疼痛缓解就停，避免长期吃。", age=72).blocked


def test_a_prescribed_necessity_is_not_an_endorsement_of_long_use():
    assert "A0768" not in blocked_ids(audit("泼尼松每天需要长期吃，不能自己停，按医生的减量方案走。", age=75))


def test_an_allergy_to_a_racemate_covers_its_single_enantiomer_and_back():
    assert audit("可以改吃艾司奥美拉唑20mg，每天早饭前一次。", allergies=["奥美拉唑"]).blocked
    assert audit("可以吃氧氟沙星，每次0.2g，每天两次。", allergies=["左氧氟沙星"]).blocked
    assert audit("可以吃左西替利嗪5mg，每晚一次。", allergies=["仙特明"]).blocked        # a brand of the racemate
    assert not audit("可以吃泮托拉唑40mg，每天早饭前一次。", allergies=["奥美拉唑"]).blocked  # another PPI: no rule here
