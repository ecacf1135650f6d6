"""Tools the agent can call (OpenAI tool-call format): BMI, drug lookup, department triage."""
