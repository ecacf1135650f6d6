"""Rule kinds of the contraindication auditor, one class per kind (listed in conf/agent/auditor/default.yaml)."""
