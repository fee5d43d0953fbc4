"""Root conftest: loads the shared fixtures and the pgTAP collector for sql/tests/."""

pytest_plugins = ["tests.fixtures"]
