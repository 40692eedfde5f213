"""Shelve, offload and unshelve on the compute host, as a ComputeManager mixin.

shelve: stop the guest, snapshot it into the image the API recorded, then either keep it
(SHELVED: guest and claim stay) or, with ``[DEFAULT] shelved_offload_time = 0``, offload
at once. A volume-backed server has no image (as in Nova): it is offloaded at once, its
volumes keep its data. Offload: destroy the guest, leave its volumes (each attachment
here replaced by a reservation), free the claim, forget the host (SHELVED_OFFLOADED).
Unshelve: power on where it is shelved; once offloaded, the conductor has scheduled and
claimed this host, the volumes are exported here and the guest is spawned from the
shelved image (which is then deleted) or from its root volume. Each step is ordered so
that a restart in between settles to a defined state with a consistent claim
(``restarted_in_*``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.compute.snapshot import spec_of
from nova_lite.conf import CONF
from nova_lite.virt import driver as virt_driver

LOG = logging.getLogger(__name__)

# system_metadata keys of a shelved server (Nova's names).
SHELVED_KEYS = ("shelved_at", "shelved_image_id", "shelved_host")
_SHELVE_TASKS = (states.SHELVING, states.SHELVING_IMAGE_PENDING_UPLOAD,
                 states.SHELVING_IMAGE_UPLOADING)


def _isotime(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)


def _without_shelved(sys_meta: Any) -> dict:
    return {k: v for k, v in (sys_meta or {}).items() if k not in SHELVED_KEYS}


class ShelveMixin:
    host: str
    conductor: Any
    driver: Any
    image_api: Any

    # -- shelve -----------------------------------------------------------------------------
    def shelve_instance(self, ctx: Any, inst: Any, t: states.Transition, params: dict
                        ) -> None:
        image_id = params["image_id"]
        event = f"compute_{t.event}"
        self.conductor.action_event(ctx, inst.uuid, event, "start", self.host)
        if image_id is None:  # volume-backed: nothing to snapshot, offloaded at once
            self._shelve_volume_backed(ctx, inst, event)
            return
        try:
            spec = spec_of(inst)
            self.driver.power_off(spec, CONF.compute.shutdown_timeout)
            sys_meta = dict(inst.get("system_metadata") or {}, shelved_image_id=image_id)
            inst = self.conductor.instance_update(
                ctx, inst.uuid, {"task_state": states.SHELVING_IMAGE_PENDING_UPLOAD,
                                 "power_state": self.driver.get_power_state(spec),
                                 "system_metadata": sys_meta},
                expected_task_state=states.SHELVING)
            inst = self._snapshot_into(  # type: ignore[attr-defined]
                ctx, inst, image_id, states.SHELVING_IMAGE_UPLOADING,
                states.SHELVING_IMAGE_PENDING_UPLOAD)
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            LOG.info("instance %s changed during its shelve; image %s dropped",
                     inst.uuid, image_id)
            self._delete_image(ctx, image_id)  # type: ignore[attr-defined]
            return
        except Exception as err:
            LOG.exception("shelve of %s failed", inst.uuid)
            self._delete_image(ctx, image_id)  # type: ignore[attr-defined]
            self._shelve_failed(ctx, inst, err, event)
            return
        self._shelved(ctx, inst, event, states.SHELVING_IMAGE_UPLOADING)

    def _shelve_volume_backed(self, ctx: Any, inst: Any, event: str) -> None:
        try:
            self.driver.power_off(spec_of(inst), CONF.compute.shutdown_timeout)
        except Exception as err:
            LOG.exception("shelve of %s failed", inst.uuid)
            self._shelve_failed(ctx, inst, err, event)
            return
        self._shelved(ctx, inst, event, states.SHELVING, offload_now=True)

    def _shelved(self, ctx: Any, inst: Any, event: str, expected: str,
                 offload_now: bool = False) -> None:
        """The image is complete: SHELVED, then offloaded at once if so configured."""
        sys_meta = dict(inst.get("system_metadata") or {})
        sys_meta.update(shelved_at=_isotime(datetime.now(timezone.utc)),
                        shelved_host=self.host)
        offload_now = offload_now or CONF.shelved_offload_time == 0
        try:
            inst = self.conductor.instance_update(
                ctx, inst.uuid,
                {"vm_state": states.SHELVED, "system_metadata": sys_meta,
                 "task_state": states.SHELVING_OFFLOADING if offload_now else None,
                 "power_state": self.driver.get_power_state(spec_of(inst))},
                expected_task_state=expected,
                event={"event": event, "phase": "finish", "host": self.host,
                       "result": "Success"})
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            LOG.info("instance %s changed as its shelve finished", inst.uuid)
            return
        LOG.info("instance %s: shelved (image %s)", inst.uuid,
                 sys_meta.get("shelved_image_id") or "none: volume-backed")
        if offload_now:
            self._offload(ctx, inst, None)

    def _shelve_failed(self, ctx: Any, inst: Any, err: BaseException, event: str) -> None:
        """Back to a plain server (no shelved image); its vm_state follows the guest,
        which the shelve may have stopped."""
        try:
            current = self.conductor.server_get(ctx, inst.uuid)
            self.conductor.instance_update(
                ctx, inst.uuid,
                {"system_metadata": _without_shelved(current.get("system_metadata"))},
                expected_task_state=list(_SHELVE_TASKS))
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            return
        self._fail(ctx, inst, err, vm_state=None, event=event,  # type: ignore[attr-defined]
                   expected_task_state=list(_SHELVE_TASKS))
        self._sync_one(ctx, inst.uuid)  # type: ignore[attr-defined]

    def finish_interrupted_shelve(self, ctx: Any, inst: Any) -> None:
        """A restart came after the shelved image was complete: finish the shelve."""
        event = f"compute_{states.get('shelve').event}"
        self._shelved(ctx, inst, event, inst.task_state)

    # -- offload ----------------------------------------------------------------------------
    def shelve_offload_instance(self, ctx: Any, inst: Any, t: states.Transition,
                                params: dict) -> None:
        event = f"compute_{t.event}"
        self.conductor.action_event(ctx, inst.uuid, event, "start", self.host)
        self._offload(ctx, inst, event)

    def _offload(self, ctx: Any, inst: Any, event: Any) -> None:
        """Guest gone, claim freed, host forgotten: in that order, so a restart between
        any two steps finds the task and finishes the rest."""
        try:
            self.driver.destroy(spec_of(inst))
            self._leave_volumes(ctx, inst)  # type: ignore[attr-defined]
            self._unbind_ports(ctx, inst)  # type: ignore[attr-defined]
        except Exception as err:
            LOG.exception("offload of %s failed", inst.uuid)
            self._fail(ctx, inst, err, vm_state=None, event=event,  # type: ignore[attr-defined]
                       expected_task_state=states.SHELVING_OFFLOADING)
            return
        self.conductor.release_resources(ctx, inst.uuid)
        try:
            self.conductor.instance_update(
                ctx, inst.uuid,
                {"vm_state": states.SHELVED_OFFLOADED, "task_state": None, "host": None,
                 "node": None, "power_state": virt_driver.NOSTATE},
                expected_task_state=states.SHELVING_OFFLOADING,
                event=event and {"event": event, "phase": "finish", "host": self.host,
                                 "result": "Success"})
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            LOG.info("instance %s changed during its offload", inst.uuid)
            return
        LOG.info("instance %s: offloaded from %s", inst.uuid, self.host)

    def restarted_in_offload(self, ctx: Any, inst: Any) -> None:
        self._offload(ctx, inst, None)

    def poll_shelved_instances(self, ctx: Any) -> None:
        """Periodic: offload servers shelved longer than [DEFAULT] shelved_offload_time."""
        if CONF.shelved_offload_time <= 0:
            return
        now = datetime.now(timezone.utc)
        for inst in self.conductor.instance_list_by_host(ctx, self.host):
            if inst.vm_state != states.SHELVED or inst.task_state is not None:
                continue
            shelved_at = (inst.get("system_metadata") or {}).get("shelved_at")
            try:
                age = (now - _parse_time(shelved_at)).total_seconds() if shelved_at else 0
            except ValueError:
                age = CONF.shelved_offload_time  # unreadable: old enough
            if age < CONF.shelved_offload_time:
                continue
            with self._lock(inst.uuid):  # type: ignore[attr-defined]
                try:
                    inst = self.conductor.instance_update(
                        ctx, inst.uuid, {"task_state": states.SHELVING_OFFLOADING},
                        expected_task_state=None)
                except (exception.InstanceNotFound, exception.InstanceInvalidState):
                    continue
                LOG.info("offloading %s, shelved %.0f s ago", inst.uuid, age)
                self._offload(ctx, inst, None)

    # -- unshelve ---------------------------------------------------------------------------
    def unshelve_instance(self, ctx: Any, inst: Any, t: states.Transition, params: dict
                          ) -> None:
        event = f"compute_{t.event}"
        self.conductor.action_event(ctx, inst.uuid, event, "start", self.host)
        if inst.vm_state == states.SHELVED:
            self._unshelve_in_place(ctx, inst, event)
        else:
            self._unshelve_spawn(ctx, inst, event)

    def _unshelve_in_place(self, ctx: Any, inst: Any, event: str) -> None:
        """Still on this host: start the stopped guest."""
        spec = spec_of(inst)
        try:
            self.driver.power_on(spec)
        except Exception as err:
            LOG.exception("unshelve of %s failed", inst.uuid)
            self._fail(ctx, inst, err, vm_state=None, event=event,  # type: ignore[attr-defined]
                       expected_task_state=states.UNSHELVING)
            return
        self._unshelved(ctx, inst, spec, event, states.UNSHELVING)

    def _unshelve_spawn(self, ctx: Any, inst: Any, event: str) -> None:
        """Offloaded: the conductor claimed this host; spawn from the shelved image."""
        try:
            inst = self.conductor.instance_update(ctx, inst.uuid,
                                                  {"task_state": states.SPAWNING},
                                                  expected_task_state=states.UNSHELVING)
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            LOG.info("instance %s changed before its unshelve started", inst.uuid)
            return
        image_id = (inst.get("system_metadata") or {}).get("shelved_image_id") or ""
        spec = spec_of(inst, image_id=image_id)
        try:
            spec.network_info = self._bind_ports_here(ctx, inst)  # type: ignore[attr-defined]
            devices = self._volumes_here(ctx, inst, spec)  # type: ignore[attr-defined]
            root_volume = any(d["boot_index"] == 0 for d in devices)
            if image_id:
                image_meta = self.image_api.show(ctx, image_id)
            elif root_volume:
                image_meta = self._guest_image_meta(  # type: ignore[attr-defined]
                    ctx, inst, devices)
            else:
                raise exception.NovaLiteException(
                    "Unshelve failed: the server has no shelved image")
            self.driver.spawn(spec, image_meta)
            self._complete_moved_volumes(ctx, devices)  # type: ignore[attr-defined]
        except Exception as err:
            LOG.exception("unshelve of %s failed", inst.uuid)
            try:
                self.driver.destroy(spec)
            except Exception:
                LOG.exception("clean-up after failed unshelve of %s failed", inst.uuid)
            self._leave_volumes_logged(ctx, inst)  # type: ignore[attr-defined]
            # Back to SHELVED_OFFLOADED on no host, the claim released: unshelve again.
            self._fail(ctx, inst, err, vm_state=states.SHELVED_OFFLOADED,  # type: ignore[attr-defined]
                       release=True, event=event, expected_task_state=states.SPAWNING)
            return
        self._unshelved(ctx, inst, spec, event, states.SPAWNING)

    def _unshelved(self, ctx: Any, inst: Any, spec: Any, event: str, expected: str) -> None:
        image_id = (inst.get("system_metadata") or {}).get("shelved_image_id")
        try:
            self.conductor.instance_update(
                ctx, inst.uuid,
                {"vm_state": states.ACTIVE, "task_state": None,
                 "power_state": self.driver.get_power_state(spec),
                 "system_metadata": _without_shelved(inst.get("system_metadata")),
                 "launched_at": datetime.now(timezone.utc)},
                expected_task_state=expected,
                event={"event": event, "phase": "finish", "host": self.host,
                       "result": "Success"})
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            LOG.info("instance %s changed as its unshelve finished", inst.uuid)
            return
        self._delete_image(ctx, image_id)  # type: ignore[attr-defined]
        LOG.info("instance %s: unshelved on %s", inst.uuid, self.host)

    def restarted_in_unshelve(self, ctx: Any, inst: Any) -> None:
        """Shelved here: finished if the guest runs, else still shelved. Offloaded (this
        host was being set up): back to SHELVED_OFFLOADED on no host, claim freed."""
        spec = spec_of(inst)
        if inst.vm_state == states.SHELVED:
            if self.driver.get_power_state(spec) == virt_driver.RUNNING:
                self._unshelved(ctx, inst, spec, f"compute_{states.get('unshelve').event}",
                                inst.task_state)
                return
            try:
                self.conductor.instance_update(ctx, inst.uuid, {"task_state": None},
                                               expected_task_state=inst.task_state)
            except (exception.InstanceNotFound, exception.InstanceInvalidState):
                pass
            return
        try:
            self.driver.destroy(spec)
        except Exception:
            LOG.exception("could not remove the partial guest of %s", inst.uuid)
        self._leave_volumes_logged(ctx, inst)  # type: ignore[attr-defined]
        self._fail(ctx, inst, exception.NovaLiteException(  # type: ignore[attr-defined]
            "Unshelve interrupted by a restart of nova-compute on " + self.host),
            vm_state=states.SHELVED_OFFLOADED, release=True,
            expected_task_state=inst.task_state)
