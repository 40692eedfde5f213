"""Arithmetic on inventories as Placement does it (shared by the API's views)."""

from __future__ import annotations


def capacity(inv: dict) -> int:
    """What a class of a provider can hold: (total - reserved) * allocation_ratio."""
    return int((inv["total"] - inv["reserved"]) * inv["allocation_ratio"])
