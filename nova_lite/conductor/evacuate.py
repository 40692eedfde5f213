"""Evacuate, as the conductor starts it: rebuild a server on another host when its own
compute service is down (heartbeat expired, or forced down).

A migration record ('evacuation', 'accepted') and task_state 'rebuilding' first, then in
the background the server's claim on the dead host passes to the migration and the
scheduler claims the server's flavor on another host ('pre-migrating'), whose compute
rebuilds the guest there ('done'). The dead host's claim stays with the migration until
that host's compute starts again: it removes the stale guest and drops the claim
('completed'; ComputeManager._settle_evacuations), so a guest never runs twice and no
claim is leaked.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.conductor.migrations import begin_move
from nova_lite.db import instance_migrations as mig_db
from nova_lite.db import instances as inst_db
from nova_lite.objects.instance import Instance
from nova_lite.objects.migration import Migration

LOG = logging.getLogger(__name__)

SCHEDULE_EVENT = "conductor_rebuild_server"


class EvacuateMixin:
    api_url: str
    cells: Any
    compute: Any
    _build_pool: Any

    def _start_evacuate(self, ctx: Any, cell: dict, inst: Instance, t: states.Transition,
                        params: dict) -> Instance:
        url = cell["database_connection"]
        if not inst.host:
            raise exception.InstanceInvalidState(action=t.conflict_verb,
                                                 instance_uuid=inst.uuid, attr="host",
                                                 state=None)
        source = self._compute_service(url, cell, inst.host)  # type: ignore[attr-defined]
        if source.is_up:
            raise exception.ComputeServiceInUse(host=inst.host)
        host = params.get("host")
        if host:
            self._compute_service(url, cell, host)  # type: ignore[attr-defined]
            if host == inst.host:
                raise exception.Invalid(message="The target host can't be the same one.")
        mig = mig_db.migration_create(url, {
            "instance_uuid": inst.uuid, "migration_type": "evacuation",
            "status": "accepted", "source_compute": inst.host, "source_node": inst.node,
            "old_instance_type_id": inst.flavor.id, "new_instance_type_id": inst.flavor.id,
            "user_id": ctx.user_id, "project_id": ctx.project_id})
        orig_vm_state = inst.vm_state
        inst = begin_move(ctx, url, mig, t, SCHEDULE_EVENT, lambda: inst_db.instance_update(
            url, inst.uuid, {"task_state": t.task_state},
            expected_task_state=list(t.from_task_states), cell_name=cell["name"]))
        target = params.get("target_state") or (
            states.STOPPED if orig_vm_state == states.STOPPED else states.ACTIVE)
        self._build_pool.submit(self._evacuate_schedule_logged, ctx, cell, inst, mig, host,
                                target, params.get("admin_password"))
        return inst

    def _evacuate_schedule_logged(self, ctx: Any, cell: dict, inst: Instance,
                                  mig: Migration, host: Optional[str], target: str,
                                  password: Optional[str]) -> None:
        ctx.update_store()
        try:
            try:
                mig = self._claim_destination(  # type: ignore[attr-defined]
                    ctx, cell, inst, mig, host, "pre-migrating")
            except exception.NoValidHost as err:
                self._abort_move(ctx, cell, inst.uuid, mig,  # type: ignore[attr-defined]
                                 err.format_message(), SCHEDULE_EVENT, code=400,
                                 expected_task_state=states.REBUILDING)
                return
            inst_db.action_event(cell["database_connection"], inst.uuid, ctx.request_id,
                                 SCHEDULE_EVENT, "finish", None, "Success")
            LOG.info("evacuation of %s: %s -> %s (migration %s)", inst.uuid,
                     mig.source_compute, mig.dest_compute, mig.uuid)
            self.compute.evacuate_instance(ctx, mig.dest_compute, inst, mig, target,
                                           password)
        except Exception as err:
            LOG.exception("evacuation of %s failed before reaching a host", inst.uuid)
            self._abort_move(ctx, cell, inst.uuid, mig,  # type: ignore[attr-defined]
                             f"Evacuation failed: {err}", SCHEDULE_EVENT,
                             expected_task_state=states.REBUILDING)
