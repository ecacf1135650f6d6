"""Processes started together for a person to use: the assistant demo (model server, API, chat app)."""
