"""Live migration as the conductor starts it, and its abort and force-complete.

os-migrateLive: a migration record ('live-migration', 'accepted') and task_state
'migrating' first (the API's answer), then in the background the server's claim passes
to the migration and the scheduler claims the server's flavor on a destination (the
requested host, checked by the filters, or any other host), the record becomes
'queued' and the source host carries the move on (ComputeManager.live_migration). Any
failure before that returns the claim to the server, which stays ACTIVE where it was,
with a fault saying why.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.conductor import move_claims
from nova_lite.conductor.migrations import begin_move
from nova_lite.conf import CONF
from nova_lite.db import cells as cells_db
from nova_lite.db import instance_migrations as mig_db
from nova_lite.db import instances as inst_db
from nova_lite.db import services as svc_db
from nova_lite.objects.instance import Instance
from nova_lite.objects.migration import Migration
from nova_lite.objects.request_spec import RequestSpec

LOG = logging.getLogger(__name__)

SCHEDULE_EVENT = "conductor_live_migrate_instance"
COMPUTE_BINARY = svc_db.COMPUTE_BINARY


class LiveMigrationMixin:
    api_url: str
    cells: Any
    compute: Any
    scheduler: Any
    _build_pool: Any

    # -- checks shared with evacuate ---------------------------------------------------
    def _compute_service(self, url: str, cell: dict, host: str) -> Any:
        """The compute service of ``host`` (ComputeHostNotFound if none)."""
        found = svc_db.service_list(url, CONF.service_down_time, cell["name"],
                                    COMPUTE_BINARY, host)
        if not found:
            raise exception.ComputeHostNotFound(host=host)
        return found[0]

    def _claim_destination(self, ctx: Any, cell: dict, inst: Instance, mig: Migration,
                       host: Optional[str], status: str) -> Migration:
        """Hold the source claim for the migration, claim the server's flavor on a
        destination other than its host (``host`` if given) and record where it goes;
        NoValidHost when none fits."""
        url = cell["database_connection"]
        move_claims.hold_source_claim(self.api_url, inst.uuid, mig.uuid)
        spec = RequestSpec.obj_from_primitive(cells_db.request_spec_get(self.api_url,
                                                                        inst.uuid))
        spec.flavor = inst.flavor
        spec.instance_uuid = inst.uuid
        spec.num_instances = 1
        spec.force_hosts = [host] if host else []
        spec.ignore_hosts = [inst.host]
        sel = self.scheduler.select_destinations(ctx, spec, [inst.uuid])[0]
        dest_ip = next((n.host_ip for n in svc_db.compute_node_list(
            url, CONF.service_down_time, cell["name"]) if n.host == sel.host), None)
        return mig_db.migration_update(url, mig.uuid, {
            "dest_compute": sel.host, "dest_node": sel.nodename, "dest_host": dest_ip,
            "status": status}, expected_status="accepted")

    # -- os-migrateLive ------------------------------------------------------------------
    def _start_live_migration(self, ctx: Any, cell: dict, inst: Instance,
                              t: states.Transition, params: dict) -> Instance:
        url = cell["database_connection"]
        host = params.get("host")
        if not inst.host:
            raise exception.InstanceInvalidState(action=t.conflict_verb,
                                                 instance_uuid=inst.uuid, attr="host",
                                                 state=None)
        if host:
            svc = self._compute_service(url, cell, host)
            if host == inst.host:
                raise exception.Invalid(message=f"The target host {host} is the host the "
                                                "server is on.")
            if not svc.is_up:
                raise exception.Invalid(message=f"Compute service of {host} is unavailable "
                                                "at this time.")
        mig = mig_db.migration_create(url, {
            "instance_uuid": inst.uuid, "migration_type": "live-migration",
            "status": "accepted", "source_compute": inst.host, "source_node": inst.node,
            "old_instance_type_id": inst.flavor.id, "new_instance_type_id": inst.flavor.id,
            "user_id": ctx.user_id, "project_id": ctx.project_id})
        inst = begin_move(ctx, url, mig, t, SCHEDULE_EVENT, lambda: inst_db.instance_update(
            url, inst.uuid, {"task_state": t.task_state},
            expected_task_state=list(t.from_task_states), cell_name=cell["name"]))
        # Both hosts have their own instances_path: block migration is what "auto" means.
        block = params.get("block_migration", "auto")
        block = True if block in ("auto", None) else bool(block)
        self._build_pool.submit(self._live_schedule_logged, ctx, cell, inst, mig, host,
                                block)
        return inst

    def _live_schedule_logged(self, ctx: Any, cell: dict, inst: Instance, mig: Migration,
                              host: Optional[str], block: bool) -> None:
        ctx.update_store()
        try:
            try:
                mig = self._claim_destination(ctx, cell, inst, mig, host, "queued")
            except exception.NoValidHost as err:
                self._abort_move(ctx, cell, inst.uuid, mig,  # type: ignore[attr-defined]
                                 err.format_message(), SCHEDULE_EVENT, code=400,
                                 expected_task_state=states.MIGRATING)
                return
            inst_db.action_event(cell["database_connection"], inst.uuid, ctx.request_id,
                                 SCHEDULE_EVENT, "finish", None, "Success")
            LOG.info("live migration of %s: %s -> %s (migration %s)", inst.uuid,
                     mig.source_compute, mig.dest_compute, mig.uuid)
            self.compute.live_migration(ctx, mig.source_compute, inst, mig, block)
        except Exception as err:
            LOG.exception("live migration of %s failed before reaching a host", inst.uuid)
            self._abort_move(ctx, cell, inst.uuid, mig,  # type: ignore[attr-defined]
                             f"Live migration failed: {err}", SCHEDULE_EVENT,
                             expected_task_state=states.MIGRATING)

    # -- force complete and abort (2.22, 2.24) ---------------------------------------------
    def _live_migration_of(self, ctx: Any, instance_uuid: str, migration_id: int,
                           method: str) -> tuple[dict, Instance, Migration]:
        cell = self.cells.instance_cell(instance_uuid)
        if cell is None:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        url = cell["database_connection"]
        inst = inst_db.instance_get(url, instance_uuid, cell["name"])
        mig = next((m for m in mig_db.migration_list(url, instance_uuid=instance_uuid)
                    if m.id == int(migration_id)), None)
        if mig is None:
            raise exception.MigrationNotFoundForInstance(migration_id=migration_id,
                                                         instance_id=instance_uuid)
        if inst.task_state != states.MIGRATING:
            raise exception.InstanceInvalidState(action=method, instance_uuid=inst.uuid,
                                                 attr="task_state", state=inst.task_state)
        if mig.migration_type != "live-migration":
            raise exception.Invalid(message=f"Migration {migration_id} for instance "
                                            f"{instance_uuid} is not a live migration.")
        return cell, inst, mig

    def live_migration_force_complete(self, ctx: Any, instance_uuid: str,
                                      migration_id: int) -> None:
        """Ask the source to finish the running copy now (400 unless 'running')."""
        cell, inst, mig = self._live_migration_of(ctx, instance_uuid, migration_id,
                                                  "force_complete")
        if inst.vm_state != states.ACTIVE:
            raise exception.InstanceInvalidState(action="force_complete",
                                                 instance_uuid=inst.uuid, attr="vm_state",
                                                 state=inst.vm_state)
        if mig.status != "running":
            raise exception.InvalidMigrationState(
                migration_id=migration_id, instance_uuid=instance_uuid, state=mig.status,
                method="force complete")
        url = cell["database_connection"]
        inst_db.action_start(url, inst.uuid, "live_migration_force_complete",
                             ctx.request_id, ctx.user_id, ctx.project_id)
        self.compute.live_migration_force_complete(ctx, mig.source_compute, inst, mig)

    def live_migration_abort(self, ctx: Any, instance_uuid: str, migration_id: int,
                             queued_too: bool = False) -> None:
        """Abort a live migration: a running copy through its source; from 2.65
        (``queued_too``) a preparing one through its source too and a queued one here
        at once, its claim back to the server."""
        cell, inst, mig = self._live_migration_of(ctx, instance_uuid, migration_id,
                                                  "abort live migration")
        allowed = ("running", "queued", "preparing") if queued_too else ("running",)
        if mig.status not in allowed:
            raise exception.InvalidMigrationState(
                migration_id=migration_id, instance_uuid=instance_uuid, state=mig.status,
                method="abort live migration")
        url = cell["database_connection"]
        inst_db.action_start(url, inst.uuid, "live_migration_cancel", ctx.request_id,
                             ctx.user_id, ctx.project_id)
        if mig.status != "queued":  # the source stops the copy or keeps it from starting
            self.compute.live_migration_abort(ctx, mig.source_compute, inst, mig)
            return
        try:
            self.migration_step(  # type: ignore[attr-defined]
                ctx, inst.uuid, mig.uuid, {"task_state": None}, {"status": "cancelled"},
                expected_task_state=states.MIGRATING, expected_status="queued",
                claims=move_claims.RETURN,
                event={"event": "conductor_live_migration_cancel", "phase": "finish",
                       "result": "Success"})
        except exception.MigrationInvalidState as err:
            # The source started it in the meantime: too late for a queued abort.
            raise exception.InvalidMigrationState(
                migration_id=migration_id, instance_uuid=instance_uuid, state=err.kwargs.get(
                    "status"), method="abort live migration") from err
