"""The API tests' fake conductor must keep the real RPC client's method signatures."""

from __future__ import annotations

import inspect

from nova_lite.conductor.rpcapi import ConductorAPI
from tests.unit.api.fake_conductor import FakeConductor


def _params(fn: object) -> list[tuple[str, object]]:
    return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]


def test_fake_methods_match_the_rpc_client() -> None:
    shared = [name for name, fn in inspect.getmembers(FakeConductor, inspect.isfunction)
              if not name.startswith("_") and hasattr(ConductorAPI, name)]
    assert len(shared) > 15
    for name in shared:
        assert _params(getattr(FakeConductor, name)) == _params(getattr(ConductorAPI, name)), name
