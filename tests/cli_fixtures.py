"""The fixtures the CLI test modules share (registered by conftest.py): one FakeTycho served on
127.0.0.1 per module, reset for each test. A module that needs another ``fake`` or ``url``
defines its own, which takes precedence."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_cli_support import fresh, serve_fake

from tycho_client.testing.fake import FakeTycho


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeTycho, str]]:
    yield from serve_fake()


@pytest.fixture
def fake(served: tuple[FakeTycho, str]) -> FakeTycho:
    return fresh(served[0])


@pytest.fixture
def url(served: tuple[FakeTycho, str]) -> str:
    return served[1]
