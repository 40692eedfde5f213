"""Fixtures shared by the scheduler tests."""

from __future__ import annotations

from typing import Iterator

import pytest

from nova_lite.conf import CONF


@pytest.fixture
def set_conf() -> Iterator:
    """set_conf(name, value, group): a CONF override undone after the test."""
    done: list[tuple[str, str | None]] = []

    def _set(name: str, value: object, group: str | None = None) -> None:
        CONF.set_override(name, value, group)
        done.append((name, group))

    yield _set
    for name, group in done:
        CONF.clear_override(name, group)
