"""Rescue on the compute host, as a ComputeManager mixin: the guest boots from a rescue
image with its own root disk attached second, so a broken system can be repaired."""

from __future__ import annotations

import logging
from typing import Any

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.compute.snapshot import spec_of

LOG = logging.getLogger(__name__)


class RescueMixin:
    host: str
    conductor: Any
    driver: Any
    image_api: Any

    def rescue_instance(self, ctx: Any, inst: Any, t: states.Transition, params: dict
                        ) -> None:
        event = f"compute_{t.event}"
        self.conductor.action_event(ctx, inst.uuid, event, "start", self.host)
        spec = spec_of(inst)
        try:
            image_meta = self.image_api.show(ctx, params.get("rescue_image_ref") or inst.image_ref)
            self.driver.rescue(spec, image_meta, params.get("admin_password") or "")
        except Exception as err:
            LOG.exception("rescue of %s failed", inst.uuid)
            try:
                self.driver.unrescue(spec)  # the guest on its own disk again
            except Exception:
                LOG.exception("could not undo the failed rescue of %s", inst.uuid)
            self._fail(ctx, inst, err, vm_state=None, event=event,  # type: ignore[attr-defined]
                       expected_task_state=states.RESCUING)
            self._sync_one(ctx, inst.uuid)  # type: ignore[attr-defined]
            return
        try:
            self.conductor.instance_update(
                ctx, inst.uuid, {"vm_state": states.RESCUED, "task_state": None,
                                 "power_state": self.driver.get_power_state(spec)},
                expected_task_state=states.RESCUING,
                event={"event": event, "phase": "finish", "host": self.host,
                       "result": "Success"})
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            LOG.info("instance %s changed during its rescue", inst.uuid)
            return
        LOG.info("instance %s: rescued", inst.uuid)

    def restarted_in_rescue(self, ctx: Any, inst: Any) -> None:
        """A rescue or unrescue was cut short: the guest boots from its own disk again
        (an interrupted unrescue is thereby finished)."""
        spec = spec_of(inst)
        try:
            self.driver.unrescue(spec)
        except Exception as err:
            LOG.exception("could not settle the rescue of %s", inst.uuid)
            self._fail(ctx, inst, err, vm_state=states.ERROR,  # type: ignore[attr-defined]
                       expected_task_state=inst.task_state)
            return
        values: dict = {"task_state": None, "power_state": self.driver.get_power_state(spec)}
        if inst.vm_state == states.RESCUED:
            values["vm_state"] = states.ACTIVE
        try:
            self.conductor.instance_update(ctx, inst.uuid, values,
                                           expected_task_state=inst.task_state)
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            return
        self._sync_one(ctx, inst.uuid)  # type: ignore[attr-defined]
