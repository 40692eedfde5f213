"""How a flavor looks on the wire, per microversion."""

from __future__ import annotations

from typing import Any

from nova_lite.api import wsgi


def basic(req: wsgi.ApiRequest, flavor: Any) -> dict:
    out = {"id": flavor.flavorid, "name": flavor.name,
           "links": req.links("flavors", flavor.flavorid)}
    if req.ver >= (2, 55):
        out["description"] = flavor.description
    return out


def show(req: wsgi.ApiRequest, flavor: Any) -> dict:
    out = basic(req, flavor)
    swap = flavor.swap
    out.update({
        "ram": flavor.memory_mb,
        "vcpus": flavor.vcpus,
        "disk": flavor.root_gb,
        "OS-FLV-EXT-DATA:ephemeral": flavor.ephemeral_gb,
        "OS-FLV-DISABLED:disabled": flavor.disabled,
        # Before 2.75 Nova showed a zero swap as "".
        "swap": swap if (swap or req.ver >= (2, 75)) else "",
        "rxtx_factor": flavor.rxtx_factor,
        "os-flavor-access:is_public": flavor.is_public,
    })
    if req.ver >= (2, 61):
        out["extra_specs"] = dict(flavor.extra_specs or {})
    return out
