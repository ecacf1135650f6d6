"""Department triage as a tool: loads the model the `triage` stage saved and predicts departments with
probabilities. Red flags (胸痛伴出汗, 呼吸困难, ...) are routed to emergency care by the turn before this runs; a
low top probability is reported as such, so the agent can say the department is uncertain."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

from medq.errors import MedqError
from medq.agent.tools.bmi import ToolInputError

# What a model saved by medq.agent.triage.TriageStage contains beyond skops' default-trusted scikit-learn types.
# Loading refuses any other type: a replaced model file cannot smuggle in arbitrary code.
TRUSTED_TYPES = ("builtins.dict", "builtins.list", "builtins.str", "builtins.tuple", "builtins.float",
                 "builtins.int", "builtins.bool", "numpy.float64", "numpy.int64", "numpy.dtype",
                 "sklearn.feature_extraction.text.TfidfTransformer",
                 # triage.calibration=sigmoid|isotonic: CalibratedClassifierCV's fitted parts
                 "sklearn.calibration._CalibratedClassifier", "sklearn.calibration._SigmoidCalibration")
MAX_TEXT_CHARS = 4000


@dataclass(frozen=True)
class TriagePrediction:
    department: str
    probability: float
    candidates: list[tuple[str, float]]   # (department, probability), best first


class DepartmentTriage:
    """model_path: the triage stage's `model` artifact (triage_model.skops). top_k: how many departments to list."""

    def __init__(self, model_path: str | Path, top_k: int = 3):
        import skops.io

        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise MedqError(f"triage model {self.model_path} not found: run the `triage` stage "
                            "(python -m medq +recipe=triage_dialogue) and point at its triage_model.skops")
        try:
            untrusted = [t for t in skops.io.get_untrusted_types(file=self.model_path) if t not in TRUSTED_TYPES]
            if untrusted:
                raise MedqError(f"triage model {self.model_path}: refusing to load unexpected types {untrusted}")
            self.model = skops.io.load(self.model_path, trusted=list(TRUSTED_TYPES))
        except MedqError:
            raise
        except Exception as exc:  # not a skops file, truncated, wrong version
            raise MedqError(f"triage model {self.model_path}: cannot load ({type(exc).__name__}: {exc})") from None
        self.top_k = top_k
        self.departments = [str(c) for c in self.model.classes_]

    def predict(self, text: str) -> TriagePrediction:
        if not isinstance(text, str) or not text.strip():
            raise ToolInputError("triage: the symptom description is empty")
        if len(text) > MAX_TEXT_CHARS:
            raise ToolInputError(f"triage: the description has {len(text)} characters; at most {MAX_TEXT_CHARS}")
        probabilities = self.model.predict_proba([text])[0]
        ranked = sorted(zip(self.departments, (float(p) for p in probabilities)), key=lambda x: -x[1])
        return TriagePrediction(ranked[0][0], round(ranked[0][1], 4),
                                [(d, round(p, 4)) for d, p in ranked[: self.top_k]])

    def __call__(self, symptoms: Annotated[str, "患者对症状的描述（中文）"]) -> dict[str, Any]:
        """根据症状描述推荐就诊科室，给出各科室的概率（急症请直接拨打120，不依赖此工具）。"""
        return asdict(self.predict(symptoms))

    def as_tool(self):
        """The Haystack Tool (name "department_triage")."""
        from haystack.tools import create_tool_from_function

        def department_triage(symptoms: Annotated[str, "患者对症状的描述（中文）"]) -> dict[str, Any]:
            """根据症状描述推荐就诊科室，给出各科室的概率（急症请直接拨打120，不依赖此工具）。"""
            return self(symptoms)

        return create_tool_from_function(department_triage, name="department_triage")
