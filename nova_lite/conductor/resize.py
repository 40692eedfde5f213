"""Resize, and its confirmation or revert, as the conductor starts them.

resize: checks (flavor, quota: the larger flavor counts until the resize ends), a
migration record ('pre-migrating'), then in the background the
server's claim passes to the migration and the scheduler claims the new flavor for the
server on a destination ([DEFAULT] allow_resize_to_same_host lets it pick the source).
The source host then carries the move on (ComputeManager.resize_instance). Any failure
before the destination is reached returns the claim to the server, which stays where it
was with a fault saying why.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.conductor import move_claims
from nova_lite.conductor.migrations import begin_move
from nova_lite.conf import CONF
from nova_lite.db import block_devices as bdm_db
from nova_lite.db import cells as cells_db
from nova_lite.db import flavors as flavors_db
from nova_lite.db import instance_migrations as mig_db
from nova_lite.db import instances as inst_db
from nova_lite.db import services as svc_db
from nova_lite.objects.block_device import volume_backed
from nova_lite.objects.instance import Instance
from nova_lite.objects.request_spec import RequestSpec

LOG = logging.getLogger(__name__)

SCHEDULE_EVENT = "conductor_migrate_server"


def check_new_flavor(ctx: Any, old: Any, new: Any, volume_backed: bool = False) -> Any:
    """The flavor to resize to (None: not found), or the 400 Nova answers (the disk
    rules only where the root is a local disk)."""
    not_found = exception.Invalid(message="Unable to locate requested flavor.")
    if new is None or new.disabled:
        raise not_found
    if (not new.is_public and not ctx.is_admin
            and ctx.project_id not in (new.get("projects") or [])):
        raise not_found
    if new.flavorid == old.flavorid:
        raise exception.Invalid(message="Resize requires a flavor change.")
    if volume_backed:
        return new
    if old.root_gb and not new.root_gb:
        raise exception.Invalid(message="Server disk was unable to be resized because: "
                                        "Resize to zero disk flavor is not allowed.")
    if new.root_gb < old.root_gb:
        raise exception.Invalid(message="Resize error: Unable to resize disk down.")
    return new


class ResizeMixin:
    api_url: str
    cells: Any
    compute: Any
    quota: Any
    scheduler: Any
    _build_pool: Any

    # -- resize --------------------------------------------------------------------------
    def _start_resize(self, ctx: Any, cell: dict, inst: Instance, t: states.Transition,
                      params: dict) -> Instance:
        new = self._resize_flavor(ctx, inst, str(params["flavor_id"]))
        if not inst.host:
            raise exception.InstanceInvalidState(action=t.conflict_verb,
                                                 instance_uuid=inst.uuid, attr="host",
                                                 state=None)
        url = cell["database_connection"]
        # The record first: if anything below fails (or a crash stops us), the
        # migration is 'pre-migrating' and reconcile_moves / the abort below ends it.
        mig = mig_db.migration_create(url, {
            "instance_uuid": inst.uuid, "migration_type": "resize",
            "status": "pre-migrating", "source_compute": inst.host, "source_node": inst.node,
            "old_instance_type_id": inst.flavor.id, "new_instance_type_id": new.id,
            "user_id": ctx.user_id, "project_id": ctx.project_id})
        sysmeta = dict(inst.get("system_metadata") or {})
        sysmeta["old_vm_state"] = inst.vm_state
        old = inst.flavor
        # Until it is confirmed or reverted, a resize counts the larger of both flavors
        # against the quota: the instance's vcpus/memory_mb say so while it moves.
        values = {"task_state": t.task_state, "old_flavor": old, "new_flavor": new,
                  "system_metadata": sysmeta, "vcpus": max(old.vcpus, new.vcpus),
                  "memory_mb": max(old.memory_mb, new.memory_mb)}
        deltas = {k: v for k, v in (("cores", new.vcpus - old.vcpus),
                                    ("ram", new.memory_mb - old.memory_mb)) if v > 0}
        inst = begin_move(ctx, url, mig, t, SCHEDULE_EVENT, lambda: self.quota.check_deltas(
            ctx, inst.project_id, inst.user_id, deltas,
            record=lambda _session: inst_db.instance_update(
                url, inst.uuid, values, expected_task_state=list(t.from_task_states),
                cell_name=cell["name"])))
        self._build_pool.submit(self._resize_schedule_logged, ctx, cell, inst, mig)
        return inst

    def _resize_flavor(self, ctx: Any, inst: Instance, flavor_id: str) -> Any:
        try:
            new = flavors_db.flavor_get(self.api_url, flavor_id)
        except exception.FlavorNotFound:
            new = None
        url = self._bdm_cell_url(inst.uuid)  # type: ignore[attr-defined]
        return check_new_flavor(ctx, inst.flavor, new,
                                volume_backed(bdm_db.bdm_list(url, [inst.uuid])[inst.uuid]))

    def _resize_schedule_logged(self, ctx: Any, cell: dict, inst: Instance, mig: Any) -> None:
        ctx.update_store()
        try:
            self._resize_schedule(ctx, cell, inst, mig)
        except Exception as err:
            LOG.exception("resize of %s failed before reaching a host", inst.uuid)
            self._abort_move(ctx, cell, inst.uuid, mig,  # type: ignore[attr-defined]
                             f"Resize failed: {err}", SCHEDULE_EVENT)

    def _resize_schedule(self, ctx: Any, cell: dict, inst: Instance, mig: Any) -> None:
        ignore = [] if CONF.allow_resize_to_same_host else [inst.host]
        try:
            self._schedule_move(ctx, cell, inst, mig, ignore_hosts=ignore)
        except exception.NoValidHost:
            return  # the move was aborted, with a fault saying why

    def _schedule_move(self, ctx: Any, cell: dict, inst: Instance, mig: Any,
                       ignore_hosts: list, force_hosts: Optional[list] = None) -> None:
        """Every move to a host the scheduler picks (resize, cold migration): the
        server's claim passes to the migration, the scheduler claims ``new_flavor`` for
        the server on a destination (one of ``force_hosts`` when given, never one of
        ``ignore_hosts``), and the source host carries the move on. NoValidHost is
        raised after the move is aborted (the claim back with the server, a fault)."""
        url = cell["database_connection"]
        move_claims.hold_source_claim(self.api_url, inst.uuid, mig.uuid)
        spec = RequestSpec.obj_from_primitive(cells_db.request_spec_get(self.api_url,
                                                                        inst.uuid))
        spec.flavor = inst.new_flavor
        spec.instance_uuid = inst.uuid
        spec.num_instances = 1
        spec.force_hosts = list(force_hosts or [])  # a forced host of the create is gone
        spec.ignore_hosts = list(ignore_hosts)
        try:
            sel = self.scheduler.select_destinations(ctx, spec, [inst.uuid])[0]
        except exception.NoValidHost as err:
            self._abort_move(ctx, cell, inst.uuid, mig,  # type: ignore[attr-defined]
                             err.format_message(), SCHEDULE_EVENT)
            raise
        dest_ip = next((n.host_ip for n in svc_db.compute_node_list(
            url, CONF.service_down_time, cell["name"]) if n.host == sel.host), None)
        mig = mig_db.migration_update(url, mig.uuid, {
            "dest_compute": sel.host, "dest_node": sel.nodename, "dest_host": dest_ip},
            expected_status="pre-migrating")
        inst_db.action_event(url, inst.uuid, ctx.request_id, SCHEDULE_EVENT, "finish", None,
                             "Success")
        LOG.info("%s of %s: %s -> %s (migration %s)", mig.migration_type, inst.uuid,
                 mig.source_compute, mig.dest_compute, mig.uuid)
        self.compute.resize_instance(ctx, mig.source_compute, inst, mig)

    # -- confirm / revert --------------------------------------------------------------
    def _finished_move(self, url: str, inst: Instance) -> Any:
        moves = mig_db.migration_list(url, instance_uuid=inst.uuid, status="finished",
                                      limit=1)
        if not moves:
            raise exception.Invalid(message="Instance has not been resized.")
        return moves[0]

    def _start_confirm_resize(self, ctx: Any, cell: dict, inst: Instance,
                              t: states.Transition, params: dict) -> Instance:
        url = cell["database_connection"]
        mig = self._finished_move(url, inst)
        inst = mig_db.advance(url, inst.uuid, {"task_state": t.task_state},
                              list(t.from_task_states), mig.uuid, {"status": "confirming"},
                              "finished", cell["name"])
        inst_db.action_start(url, inst.uuid, t.action_record, ctx.request_id, ctx.user_id,
                             ctx.project_id)
        self.compute.confirm_resize(ctx, mig.source_compute, inst,
                                    mig_db.migration_get(url, mig.uuid))
        return inst

    def _start_revert_resize(self, ctx: Any, cell: dict, inst: Instance,
                             t: states.Transition, params: dict) -> Instance:
        url = cell["database_connection"]
        mig = self._finished_move(url, inst)  # (the old flavor is still counted)
        inst = mig_db.advance(url, inst.uuid, {"task_state": t.task_state},
                              list(t.from_task_states), mig.uuid, {"status": "reverting"},
                              "finished", cell["name"])
        inst_db.action_start(url, inst.uuid, t.action_record, ctx.request_id, ctx.user_id,
                             ctx.project_id)
        self.compute.revert_resize(ctx, mig.dest_compute, inst,
                                   mig_db.migration_get(url, mig.uuid))
        return inst
