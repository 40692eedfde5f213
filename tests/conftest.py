"""Shared test set-up: register versioned objects."""

import pytest

from nova_lite import objects

objects.register_all()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "libvirt: needs a real libvirtd with QEMU")
    config.addinivalue_line("markers", "keystone: needs a real Keystone")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
