"""Fixtures of the API tests that the apps tests share: the scripted replay model server."""

from tests.api.conftest import model_server  # noqa: F401  (a fixture)
