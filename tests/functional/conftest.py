"""Fixtures that start real deployments (separate daemons, RabbitMQ, MariaDB)."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.functional import harness


def require_services() -> None:
    """Skip (a failure under CI=true, see tests/conftest.py) without MariaDB or RabbitMQ."""
    if not harness.mariadb_available():
        pytest.skip("MariaDB is not reachable on 127.0.0.1:3306")
    if not harness.rabbit_available():
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672")


_require_services = require_services


@pytest.fixture(scope="module")
def three_hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Deployment]:
    """conductor, scheduler, API and computes c1, c2, c3 (roomy fake hosts)."""
    _require_services()
    sizes = {"vcpus": 16, "memory_mb": 65536, "local_gb": 1000}
    dep = harness.Deployment(str(tmp_path_factory.mktemp("dep3")),
                             {h: sizes for h in ("c1", "c2", "c3")})
    try:
        dep.setup()
        yield dep
    finally:
        dep.teardown()


@pytest.fixture(scope="module")
def forty_fit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Deployment]:
    """Four fake hosts with 10 GiB of disk each: exactly 40 1-GiB servers fit."""
    _require_services()
    sizes = {"vcpus": 64, "memory_mb": 65536, "local_gb": 10}
    dep = harness.Deployment(str(tmp_path_factory.mktemp("dep40")),
                             {h: sizes for h in ("d1", "d2", "d3", "d4")})
    try:
        dep.setup()
        yield dep
    finally:
        dep.teardown()


@pytest.fixture(scope="module")
def slow_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Deployment]:
    """One fake host whose spawns take 3 s: room to interrupt a build."""
    _require_services()
    dep = harness.Deployment(str(tmp_path_factory.mktemp("slow")),
                             {"s1": {"spawn_delay": 3.0}})
    try:
        dep.setup()
        yield dep
    finally:
        dep.teardown()
