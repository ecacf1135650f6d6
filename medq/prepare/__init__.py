from medq.prepare.stage import PrepareStage

__all__ = ["PrepareStage"]
