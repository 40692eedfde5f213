"""GET /: the one version document, with the microversion range (no token needed)."""

from __future__ import annotations

from nova_lite.placement import microversion


def versions() -> dict:
    return {"versions": [{
        "id": "v1.0", "max_version": str(microversion.MAX_VERSION),
        "min_version": str(microversion.MIN_VERSION), "status": "CURRENT",
        "links": [{"rel": "self", "href": ""}]}]}
