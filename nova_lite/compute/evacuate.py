"""The compute hosts' side of an evacuation.

destination  evacuate_instance   the guest is built again here from the server's image
                                 or its root volume, with its volumes ('done': the
                                 server is this host's; the dead source's claim stays
                                 with the migration)
source       at its next start   _settle_evacuations removes the stale guest and drops
                                 the source claim ('completed')

A failure on the destination removes what it made there; the server stays recorded on
its (dead) source host, ERROR with a fault, holding its old claim again ('failed'), so
that another evacuate or a delete can follow.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Optional

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.objects.instance import Instance
from nova_lite.objects.migration import CLAIM_DROP, CLAIM_RETURN
from nova_lite.virt import driver as virt_driver

LOG = logging.getLogger(__name__)

_GONE = (exception.InstanceNotFound, exception.InstanceInvalidState,
         exception.MigrationNotFound, exception.MigrationInvalidState)
# Evacuations whose source must not keep its guest (Nova's values).
SETTLE_STATUSES = ("accepted", "pre-migrating", "done")


class EvacuateMixin:
    host: str
    conductor: Any
    driver: Any
    image_api: Any

    def evacuate_instance(self, ctx: Any, instance: Instance, migration: Any,
                          target_state: str, admin_password: Optional[str] = None) -> None:
        with self._lock(instance.uuid):  # type: ignore[attr-defined]
            self._evacuate(ctx, instance, migration, target_state)

    def _evacuate(self, ctx: Any, inst: Instance, mig: Any, target_state: str) -> None:
        from nova_lite.compute.manager import instance_spec
        from nova_lite.compute.resize import _fault

        t = states.get("evacuate")
        try:
            inst = self.conductor.instance_update(
                ctx, inst.uuid, {"task_state": states.REBUILD_SPAWNING},
                expected_task_state=t.task_state,
                event=self._event(t.event, "start"))  # type: ignore[attr-defined]
        except _GONE as err:
            LOG.info("evacuation of %s not started: %s", inst.uuid, err)
            return
        spec = instance_spec(inst)
        try:
            # its ports come along: bound to this host (Neutron), then plugged here
            spec.network_info = self._bind_ports_here(ctx, inst)  # type: ignore[attr-defined]
            # the volumes too: the dead host's attachments give way to this host's
            self._leave_volumes(ctx, inst)  # type: ignore[attr-defined]
            devices = self._volumes_here(ctx, inst, spec)  # type: ignore[attr-defined]
            image_meta = self._guest_image_meta(ctx, inst, devices)  # type: ignore[attr-defined]
            self.driver.spawn(spec, image_meta)
            self._complete_moved_volumes(ctx, devices)  # type: ignore[attr-defined]
            if target_state == states.STOPPED:
                self.driver.power_off(spec)
        except Exception as err:
            LOG.exception("evacuation of %s to %s failed", inst.uuid, self.host)
            try:
                self.driver.destroy(spec)
            except Exception:
                LOG.exception("clean-up of %s on %s failed", inst.uuid, self.host)
            self._leave_volumes_logged(ctx, inst)  # type: ignore[attr-defined]
            fault = _fault(err, self.host)
            try:
                self.conductor.migration_step(
                    ctx, inst.uuid, mig.uuid, {"vm_state": states.ERROR, "task_state": None},
                    {"status": "failed"}, expected_task_state=states.REBUILD_SPAWNING,
                    expected_status="pre-migrating", claims=CLAIM_RETURN,
                    event=self._event(  # type: ignore[attr-defined]
                        t.event, "finish", "Error", fault["details"]),
                    fault=fault)
            except _GONE as gone:
                LOG.info("%s changed while its evacuation failed: %s", inst.uuid, gone)
            return
        try:
            self.conductor.migration_step(
                ctx, inst.uuid, mig.uuid,
                {"host": self.host, "node": mig.dest_node, "vm_state": target_state,
                 "task_state": None, "power_state": self.driver.get_power_state(spec),
                 "launched_at": datetime.utcnow()},
                {"status": "done"}, expected_task_state=states.REBUILD_SPAWNING,
                expected_status="pre-migrating",
                event=self._event(t.event, "finish", "Success"))  # type: ignore[attr-defined]
        except _GONE as err:
            LOG.info("%s changed during its evacuation (%s); leaving it", inst.uuid, err)
            return
        LOG.info("instance %s: evacuated from %s to %s (migration %s)", inst.uuid,
                 mig.source_compute, self.host, mig.uuid)

    # -- restarts ------------------------------------------------------------------------
    def _settle_evacuations(self, ctx: Any) -> set[str]:
        """At start-up, before anything else: servers evacuated from this host while it
        was down lose their stale guest here; a finished evacuation's source claim is
        dropped. Returns the uuids of every server evacuated away from here."""
        away: set[str] = set()
        for mig in self.conductor.migration_list(ctx, host=self.host,
                                                 status=list(SETTLE_STATUSES),
                                                 migration_type="evacuation"):
            if mig.source_compute != self.host or mig.migration_type != "evacuation":
                continue
            away.add(mig.instance_uuid)
            LOG.warning("removing the guest of %s: it was evacuated to %s",
                        mig.instance_uuid, mig.dest_compute)
            try:
                self.driver.destroy(virt_driver.InstanceSpec(
                    mig.instance_uuid, f"instance-{mig.instance_uuid}", "", 0, 0, 0, ""))
            except Exception:
                LOG.exception("removing the evacuated guest %s failed", mig.instance_uuid)
            if mig.status != "done":
                continue
            try:
                self.conductor.migration_step(ctx, mig.instance_uuid, mig.uuid, {},
                                              {"status": "completed"},
                                              expected_status="done", claims=CLAIM_DROP)
            except _GONE as err:
                LOG.info("evacuation %s of %s changed: %s", mig.uuid, mig.instance_uuid, err)
        return away

    def _recover_evacuation(self, ctx: Any, inst: Instance, mig: Any) -> None:
        """A restart of the destination caught the rebuild: its guest is half made, so
        it goes, and the evacuation fails (the server ERROR, back on its old claim)."""
        from nova_lite.compute.manager import instance_spec

        if mig.dest_compute != self.host or inst.task_state not in (
                states.REBUILDING, states.REBUILD_SPAWNING):
            return
        LOG.warning("evacuation of %s was interrupted here; it fails", inst.uuid)
        try:
            self.driver.destroy(instance_spec(inst))
        except Exception:
            LOG.exception("clean-up of %s on %s failed", inst.uuid, self.host)
        self._leave_volumes_logged(ctx, inst)  # type: ignore[attr-defined]
        try:
            self.conductor.migration_step(
                ctx, inst.uuid, mig.uuid, {"vm_state": states.ERROR, "task_state": None},
                {"status": "failed"}, expected_status=["accepted", "pre-migrating"],
                claims=CLAIM_RETURN,
                fault={"code": 500, "host": self.host,
                       "message": f"Evacuation interrupted by a restart of nova-compute on "
                                  f"{self.host}."})
        except _GONE as err:
            LOG.info("%s changed while its evacuation was settled: %s", inst.uuid, err)
