"""Rebuild on the server's own host: the guest is re-created from the server's (new)
image, or around its root volume (re-imaged first from 2.93: nova_lite.compute.reimage),
with its volumes; flavor, host, claim and data volume attachments stay. Task states as
Nova's: rebuilding -> rebuild_block_device_mapping -> rebuild_spawning. A stopped server
stays stopped; a failure leaves the server ERROR with a fault (still holding its claim,
so a delete frees it)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Optional

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.objects.instance import Instance

LOG = logging.getLogger(__name__)


class RebuildMixin:
    host: str
    conductor: Any
    driver: Any
    image_api: Any

    def rebuild_instance(self, ctx: Any, instance: Instance, orig_vm_state: str,
                         preserve_ephemeral: bool = False,
                         reimage_image_id: Optional[str] = None) -> None:
        """``reimage_image_id``: the image to write over the root volume first (a
        volume-backed server rebuilt from 2.93)."""
        with self._lock(instance.uuid):  # type: ignore[attr-defined]
            self._rebuild(ctx, instance, orig_vm_state, preserve_ephemeral,
                          reimage_image_id)

    def _rebuild(self, ctx: Any, inst: Instance, orig_vm_state: str,
                 preserve_ephemeral: bool, reimage_image_id: Optional[str] = None) -> None:
        from nova_lite.compute.manager import instance_spec

        t = states.get("rebuild")
        event = f"compute_{t.event}"
        self.conductor.action_event(ctx, inst.uuid, event, "start", self.host)
        held = t.task_state
        devices: list[dict] = []
        if reimage_image_id:  # while rebuilding, as Nova: the guest goes, then the disk
            spec = instance_spec(inst)
            try:
                self._volumes_of_guest(ctx, inst, spec)  # type: ignore[attr-defined]
                self.driver.destroy(spec)
                self._reimage_root_volume(  # type: ignore[attr-defined]
                    ctx, inst, reimage_image_id)
            except Exception as err:
                LOG.exception("re-imaging the root volume of %s failed", inst.uuid)
                self._fail(ctx, inst, err, vm_state=states.ERROR,  # type: ignore[attr-defined]
                           event=event, expected_task_state=held)
                return
        try:
            for task_state in t.steps:
                inst = self.conductor.instance_update(ctx, inst.uuid,
                                                      {"task_state": task_state},
                                                      expected_task_state=held)
                held = task_state
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            LOG.info("instance %s changed before its rebuild; stopping", inst.uuid)
            return
        power_on = orig_vm_state != states.STOPPED
        spec = instance_spec(inst)
        try:
            if reimage_image_id:  # the re-imaged root is exported here again
                devices = self._volumes_here(ctx, inst, spec)  # type: ignore[attr-defined]
            else:  # the volumes stay attached to this host: the new guest has them again
                self._volumes_of_guest(ctx, inst, spec)  # type: ignore[attr-defined]
            image_meta = self._guest_image_meta(  # type: ignore[attr-defined]
                ctx, inst, spec.extra.get("block_devices") or [])
            getattr(self.driver, t.driver_call)(spec, image_meta, preserve_ephemeral,
                                                power_on)
            self._complete_moved_volumes(ctx, devices)  # type: ignore[attr-defined]
        except Exception as err:
            LOG.exception("rebuild of %s failed", inst.uuid)
            self._fail(ctx, inst, err, vm_state=states.ERROR,  # type: ignore[attr-defined]
                       event=event, expected_task_state=held)
            return
        try:
            self.conductor.instance_update(
                ctx, inst.uuid,
                {"vm_state": t.to_vm_state if power_on else states.STOPPED,
                 "task_state": None, "power_state": self.driver.get_power_state(spec),
                 "launched_at": datetime.utcnow()},
                expected_task_state=held,
                event={"event": event, "phase": "finish", "host": self.host,
                       "result": "Success"})
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            LOG.info("instance %s changed during its rebuild; leaving it", inst.uuid)
            return
        LOG.info("instance %s: rebuilt from image %s on %s", inst.uuid, inst.image_ref,
                 self.host)

    def restarted_in_rebuild(self, ctx: Any, inst: Instance) -> None:
        """A restart of nova-compute caught the rebuild: its guest is half made, so the
        server is ERROR with a fault (on its host, holding its claim; a rebuild or a
        delete from there works)."""
        self._fail(ctx, inst, exception.NovaLiteException(  # type: ignore[attr-defined]
            "Rebuild interrupted by a restart of nova-compute on " + self.host),
            vm_state=states.ERROR)
