"""Fixtures for the release tests: the server tests' two releases (tests/server/conftest.py,
built once per session from the clean sample), imported so that `release push` can be tested on
them alone or with the server tests."""

from tests.server.conftest import built_releases  # noqa: F401  (fixture)
