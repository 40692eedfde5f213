"""The Placement API's conductor client and the conductor's placement endpoint agree on
every method and its parameters (a mismatch would only show as a remote TypeError)."""

from __future__ import annotations

import inspect

from nova_lite.conductor import placement as endpoint_mod
from nova_lite.conductor.placement import PlacementEndpoint
from nova_lite.placement import rpcapi
from nova_lite.placement.rpcapi import PlacementConductorAPI


def _public(cls: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(fn) for name, fn in vars(cls).items()
            if inspect.isfunction(fn) and not name.startswith("_")}


def test_client_methods_match_endpoint() -> None:
    client, server = _public(PlacementConductorAPI), _public(PlacementEndpoint)
    assert set(client) == set(server)
    for name, sig in client.items():
        assert list(sig.parameters) == list(server[name].parameters), name
        for pname, param in sig.parameters.items():
            assert param.default == server[name].parameters[pname].default, (name, pname)


def test_same_namespace_and_version() -> None:
    assert rpcapi.NAMESPACE == endpoint_mod.NAMESPACE == PlacementEndpoint.target_namespace
    assert rpcapi.VERSION == endpoint_mod.VERSION == PlacementEndpoint.target_version
