from tests.api.conftest import model_server  # noqa: F401 - the same scripted model server fixture
