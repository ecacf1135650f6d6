"""Training stages: base_model (model + pinned chat template), sft, dpo, merge."""

from medq.train.dpo import DPOStage
from medq.train.merge import MergeStage
from medq.train.base_model import BaseModelStage
from medq.train.sft import SFTStage

__all__ = ["BaseModelStage", "DPOStage", "MergeStage", "SFTStage"]
