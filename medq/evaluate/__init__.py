"""Evaluation: character-level ROUGE-L and CMMLU-format multiple-choice accuracy."""

from medq.evaluate.stage import EvaluateStage

__all__ = ["EvaluateStage"]
