"""Snapshots of a server's root disk into the image service (createImage, createBackup,
and the snapshot step of shelve), as a ComputeManager mixin.

The API records the image first (``queued``) and passes its id; here the driver writes a
standalone copy of the disk to a private temporary directory and the image API uploads
it, so nothing is assumed shared between this host and the image service. A snapshot
that fails, or that a restart interrupts, deletes its unfinished image.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from typing import Any, Optional

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.conf import CONF
from nova_lite.image import api as image_api
from nova_lite.virt import driver as virt_driver

LOG = logging.getLogger(__name__)

# Tasks of a snapshot during which the guest may be saved away (libvirt) or stopped.
_SNAPSHOT_TASKS = (states.IMAGE_SNAPSHOT, states.IMAGE_BACKUP, states.IMAGE_PENDING_UPLOAD,
                   states.IMAGE_UPLOADING)


def spec_of(inst: Any, **changes: Any) -> virt_driver.InstanceSpec:
    """The driver's view of an instance (see manager.instance_spec), with changes."""
    from nova_lite.compute.manager import instance_spec

    spec = instance_spec(inst)
    for key, value in changes.items():
        setattr(spec, key, value)
    return spec


class SnapshotMixin:
    host: str
    conductor: Any
    driver: Any
    image_api: Any

    # -- createImage / createBackup -------------------------------------------------------
    def snapshot_instance(self, ctx: Any, inst: Any, t: states.Transition, params: dict
                          ) -> None:
        image_id = params["image_id"]
        event = f"compute_{t.event}"
        self.conductor.action_event(ctx, inst.uuid, event, "start", self.host)
        try:
            inst = self.conductor.instance_update(
                ctx, inst.uuid, {"task_state": states.IMAGE_PENDING_UPLOAD},
                expected_task_state=t.task_state)
            self._snapshot_into(ctx, inst, image_id, states.IMAGE_UPLOADING,
                                states.IMAGE_PENDING_UPLOAD)
            if t.name == "createBackup":
                self._rotate_backups(ctx, inst.uuid, params["backup_type"],
                                     int(params["rotation"]), image_id)
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            LOG.info("instance %s changed during its snapshot; image %s dropped",
                     inst.uuid, image_id)
            self._delete_image(ctx, image_id)
            return
        except Exception as err:
            LOG.exception("snapshot of %s failed", inst.uuid)
            self._delete_image(ctx, image_id)
            self._fail(ctx, inst, err, vm_state=None, event=event,  # type: ignore[attr-defined]
                       expected_task_state=list(_SNAPSHOT_TASKS))
            return
        try:
            self.conductor.instance_update(
                ctx, inst.uuid, {"task_state": None}, expected_task_state=states.IMAGE_UPLOADING,
                event={"event": event, "phase": "finish", "host": self.host,
                       "result": "Success"})
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            LOG.info("instance %s changed while its snapshot finished", inst.uuid)
            return
        LOG.info("instance %s: snapshot %s uploaded", inst.uuid, image_id)

    def _snapshot_into(self, ctx: Any, inst: Any, image_id: str, uploading: str,
                       expected: str) -> Any:
        """Snapshot the guest's disk and upload it as image_id; the updated instance.
        The instance moves from task ``expected`` to ``uploading`` between the two."""
        workdir = os.path.join(CONF.instances_path, ".snapshots")
        os.makedirs(workdir, mode=0o700, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f"{inst.uuid}-", dir=workdir)
        try:
            path = os.path.join(tmp, "disk")
            disk_format = self.driver.snapshot(spec_of(inst), path)
            inst = self.conductor.instance_update(ctx, inst.uuid, {"task_state": uploading},
                                                  expected_task_state=expected)
            with open(path, "rb") as data:
                self.image_api.upload(ctx, image_id, data, disk_format=disk_format,
                                      container_format="bare")
            return inst
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _rotate_backups(self, ctx: Any, uuid: str, backup_type: str, rotation: int,
                        newest: str) -> None:
        """Keep the newest ``rotation`` backups of this type of the server (the one just
        made, ``newest``, first), as Nova does."""
        backups = self.image_api.list(ctx, {"instance_uuid": uuid, "image_type": "backup",
                                       "backup_type": backup_type,
                                       "status": image_api.ACTIVE})
        backups.sort(key=lambda i: (i["id"] == newest, i.get("created_at") or ""))
        excess = len(backups) - rotation
        for image in backups[:max(excess, 0)]:
            LOG.info("rotating out backup %s of %s", image["id"], uuid)
            self._delete_image(ctx, image["id"])

    def _delete_image(self, ctx: Any, image_id: Optional[str]) -> None:
        if not image_id:
            return
        try:
            self.image_api.delete(ctx, image_id)
            LOG.info("image %s deleted", image_id)
        except exception.ImageNotFound:
            LOG.info("image %s was already gone", image_id)
        except Exception:
            LOG.exception("could not delete image %s", image_id)

    def _unfinished_images(self, ctx: Any, uuid: str) -> list[str]:
        """Images of this server a snapshot created but never finished."""
        return [i["id"] for i in self.image_api.list(ctx, {"instance_uuid": uuid})
                if i.get("status") in (image_api.QUEUED, image_api.SAVING)]

    # -- restart ---------------------------------------------------------------------------
    def restarted_in_snapshot(self, ctx: Any, inst: Any) -> None:
        """A restart caught a snapshot (or shelve) mid-way: drop its unfinished image,
        bring a snapshotted guest back to the power state it had, clear the task. A
        shelve whose image was complete is finished instead."""
        if inst.task_state in (states.SHELVING_IMAGE_PENDING_UPLOAD,
                               states.SHELVING_IMAGE_UPLOADING):
            image_id = (inst.get("system_metadata") or {}).get("shelved_image_id")
            if image_id and self._image_status(ctx, image_id) == image_api.ACTIVE:
                self.finish_interrupted_shelve(ctx, inst)  # type: ignore[attr-defined]
                return
        for image_id in self._unfinished_images(ctx, inst.uuid):
            LOG.info("deleting image %s left unfinished by the restart", image_id)
            self._delete_image(ctx, image_id)
        spec = spec_of(inst)
        if inst.task_state in _SNAPSHOT_TASKS:
            self._restore_power(spec, inst.power_state)
        values: dict = {"task_state": None, "power_state": self.driver.get_power_state(spec)}
        sys_meta = dict(inst.get("system_metadata") or {})
        if sys_meta.pop("shelved_image_id", None) is not None:
            values["system_metadata"] = sys_meta
        try:
            self.conductor.instance_update(ctx, inst.uuid, values,
                                           expected_task_state=inst.task_state)
        except (exception.InstanceNotFound, exception.InstanceInvalidState):
            return
        self._sync_one(ctx, inst.uuid)  # type: ignore[attr-defined]

    def _image_status(self, ctx: Any, image_id: str) -> Optional[str]:
        try:
            return self.image_api.show(ctx, image_id).get("status")
        except exception.ImageNotFound:
            return None

    def _restore_power(self, spec: virt_driver.InstanceSpec, wanted: int) -> None:
        """Bring the guest back to ``wanted`` (running or paused) if a snapshot left it
        saved or stopped."""
        now = self.driver.get_power_state(spec)
        if wanted not in (virt_driver.RUNNING, virt_driver.PAUSED) or now == wanted:
            return
        try:
            if now in (virt_driver.SHUTDOWN, virt_driver.SUSPENDED, virt_driver.NOSTATE):
                self.driver.power_on(spec)
            if wanted == virt_driver.PAUSED:
                self.driver.pause(spec)
        except virt_driver.DriverError:
            LOG.exception("could not bring %s back to power state %s", spec.uuid, wanted)
