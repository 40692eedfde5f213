"""How migration records look: in GET /os-migrations (every kind of move, shaped per
microversion) and in GET /servers/{id}/migrations (live migrations in progress, with
their memory and disk progress)."""

from __future__ import annotations

from typing import Any

from nova_lite.api import common, wsgi

# A live migration in these statuses can be shown, forced to complete or aborted.
LIVE_IN_PROGRESS = ("queued", "preparing", "running", "post-migrating")
LIVE = "live-migration"


def os_migration(req: wsgi.ApiRequest, mig: Any) -> dict:
    out = {
        "created_at": common.strtime(mig.created_at),
        "dest_compute": mig.dest_compute,
        "dest_host": mig.dest_host,
        "dest_node": mig.dest_node,
        "id": mig.id,
        "instance_uuid": mig.instance_uuid,
        "new_instance_type_id": mig.new_instance_type_id,
        "old_instance_type_id": mig.old_instance_type_id,
        "source_compute": mig.source_compute,
        "source_node": mig.source_node,
        "status": mig.status,
        "updated_at": common.strtime(mig.updated_at),
    }
    if req.ver >= (2, 23):
        out["migration_type"] = mig.migration_type
        if mig.migration_type == LIVE and mig.status in LIVE_IN_PROGRESS:
            out["links"] = req.links(f"servers/{mig.instance_uuid}/migrations", str(mig.id))
    if req.ver >= (2, 59):
        out["uuid"] = mig.uuid
    if req.ver >= (2, 80):
        out["user_id"] = mig.user_id
        out["project_id"] = mig.project_id
    return out


def server_migration(req: wsgi.ApiRequest, mig: Any) -> dict:
    out = {
        "created_at": common.strtime(mig.created_at),
        "dest_compute": mig.dest_compute,
        "dest_host": mig.dest_host,
        "dest_node": mig.dest_node,
        "disk_processed_bytes": mig.disk_processed,
        "disk_remaining_bytes": mig.disk_remaining,
        "disk_total_bytes": mig.disk_total,
        "id": mig.id,
        "memory_processed_bytes": mig.memory_processed,
        "memory_remaining_bytes": mig.memory_remaining,
        "memory_total_bytes": mig.memory_total,
        "server_uuid": mig.instance_uuid,
        "source_compute": mig.source_compute,
        "source_node": mig.source_node,
        "status": mig.status,
        "updated_at": common.strtime(mig.updated_at),
    }
    if req.ver >= (2, 59):
        out["uuid"] = mig.uuid
    if req.ver >= (2, 80):
        out["user_id"] = mig.user_id
        out["project_id"] = mig.project_id
    return out
