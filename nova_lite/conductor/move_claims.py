"""The claims of a move, placement-style (as Nova's migration-based allocations).

While a server moves (resize today; cold and live migration and evacuation use the same
three operations), two claims exist: the server's old size on the source node, held by
the migration's uuid, and its new size on the destination node, held by the server's
uuid (the scheduler claims it there). Confirming drops the first; reverting, or any
failure before the move completes, hands it back to the server, which replaces the
second. Every operation is idempotent, so a step replayed after a crash is harmless.
"""

from __future__ import annotations

import logging

from nova_lite.db import placement as placement_db
from nova_lite.objects.migration import CLAIM_DROP as DROP
from nova_lite.objects.migration import CLAIM_HOLD as HOLD
from nova_lite.objects.migration import CLAIM_RETURN as RETURN

LOG = logging.getLogger(__name__)


def hold_source_claim(api_url: str, instance_uuid: str, migration_uuid: str) -> int:
    """Before scheduling a move: the server's claim passes to the migration."""
    return placement_db.move_allocations(api_url, instance_uuid, migration_uuid)


def return_source_claim(api_url: str, migration_uuid: str, instance_uuid: str) -> int:
    """Revert or failure: the source claim goes back to the server, replacing whatever
    the server held on the destination."""
    moved = placement_db.move_allocations(api_url, migration_uuid, instance_uuid)
    LOG.info("claim of move %s returned to instance %s (%d rows)", migration_uuid,
             instance_uuid, moved)
    return moved


def drop_source_claim(api_url: str, migration_uuid: str) -> int:
    """Confirmation (or the server's deletion): the source claim is freed."""
    return placement_db.release(api_url, migration_uuid)


def apply(api_url: str, op: str, instance_uuid: str, migration_uuid: str) -> int:
    """One of HOLD, RETURN, DROP by name (as a step sent over RPC names it)."""
    if op == HOLD:
        return hold_source_claim(api_url, instance_uuid, migration_uuid)
    if op == RETURN:
        return return_source_claim(api_url, migration_uuid, instance_uuid)
    if op == DROP:
        return drop_source_claim(api_url, migration_uuid)
    raise ValueError(f"unknown claim operation {op!r}")
