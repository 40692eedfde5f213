"""A compute service's report of all its nodes in two transactions (one in its cell
database, one in the API database) instead of three per node: with hundreds of nodes per
service the commits, not the statements, are what a periodic pass spends its time on.

Each node gets exactly the per-node writes (services.compute_node_update,
placement.provider_ensure and provider_traits_set, their undecorated bodies), so one
node or many are recorded the same way.
"""

from __future__ import annotations

from typing import Optional

from sqlalchemy.orm import Session

from nova_lite.db import placement, services
from nova_lite.db.engine import transactional

_node_update = services.compute_node_update.__wrapped__
_provider_ensure = placement.provider_ensure.__wrapped__
_traits_set = placement.provider_traits_set.__wrapped__


@transactional
def compute_nodes_update(session: Session, host: str, service_id: int,
                         values: list[dict]) -> list[dict]:
    """Upsert each compute node of host (values as services.compute_node_update's)."""
    return [_node_update(session, host, service_id, v) for v in values]


@transactional
def providers_update(session: Session, host: str, cell_uuid: Optional[str],
                     providers: list[dict]) -> None:
    """Create or update each provider: {"name", "uuid", "inventories", "traits"
    (None: leave them)}; a provider's own CUSTOM_ traits are kept."""
    for p in providers:
        _provider_ensure(session, p["name"], host, cell_uuid, p["inventories"],
                         uuid=p["uuid"])
        if p["traits"] is not None:
            _traits_set(session, p["name"], p["traits"], keep_custom=True)
