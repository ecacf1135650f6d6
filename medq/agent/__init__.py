"""The reflective medical agent: patient memory, entity extraction, the contraindication auditor, tools, the turn."""
