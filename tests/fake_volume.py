"""An in-memory stand-in for nova_lite.volume.cinder.API (same methods, same errors).

It keeps Cinder's rules that callers depend on: a project sees only its own volumes
(admins see all), an attachment is created only for an attachable volume, a volume is
``reserved`` then ``attaching`` then ``in-use`` and ``available`` again after its last
attachment is deleted, an in-use volume cannot be deleted. Answers have Cinder's shapes
(connection_info of an ``rbd`` volume) and every call is recorded in ``calls``.

A re-image (os-reimage) is done at once: the volume takes the image, and
``on_reimaged(server_uuid, volume_id, status)`` (a test wires it to a compute host's
external_instance_event, as Cinder posts volume-reimaged) is told for each server the
volume is attached or reserved to; ``reimage_fails`` makes it fail as Cinder's volume
manager does (volume ``error``, event ``failed``), ``reimage_silent`` sends no event.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any, Optional

from nova_lite import exception
from nova_lite.volume import cinder

SECRET_UUID = "7c6e3e52-1c2b-4f0a-9d3e-ce9f5ec2e7a1"  # tools/setup-cinder's
MULTIATTACH_TYPE = "multiattach"  # a volume type whose volumes are multiattach


class API:
    def __init__(self, cross_az_attach: bool = True,
                 availability_zone: str = "nova") -> None:
        self.cross_az_attach = cross_az_attach
        self.availability_zone = availability_zone
        self.volumes: dict[str, dict] = {}
        self.attachments: dict[str, dict] = {}
        self.snapshots: dict[str, dict] = {}
        self.volume_types: list[dict] = [
            {"id": str(uuid.uuid4()), "name": "__DEFAULT__", "extra_specs": {}},
            {"id": str(uuid.uuid4()), "name": MULTIATTACH_TYPE,
             "extra_specs": {"multiattach": "<is> True"}}]
        self.calls: list[tuple[str, Any]] = []
        self.on_reimaged: Any = None
        self.reimage_fails = False
        self.reimage_silent = False
        self._lock = threading.RLock()

    # -- helpers ---------------------------------------------------------------------

    @staticmethod
    def _sees(ctx: Any, project_id: str) -> bool:
        return ctx is None or getattr(ctx, "is_admin", False) or \
            getattr(ctx, "project_id", None) == project_id

    def _volume(self, ctx: Any, volume_id: str) -> dict:
        vol = self.volumes.get(volume_id)
        if vol is None or not self._sees(ctx, vol["os-vol-tenant-attr:tenant_id"]):
            raise exception.VolumeNotFound(volume_id=volume_id)
        return vol

    def _attachment(self, ctx: Any, attachment_id: str) -> dict:
        att = self.attachments.get(attachment_id)
        if att is None or not self._sees(
                ctx, self.volumes[att["volume_id"]]["os-vol-tenant-attr:tenant_id"]):
            raise exception.VolumeAttachmentNotFound(attachment_id=attachment_id)
        return att

    def _refresh(self, vol: dict) -> None:
        atts = [a for a in self.attachments.values() if a["volume_id"] == vol["id"]]
        vol["attachments"] = [
            {"id": vol["id"], "volume_id": vol["id"], "attachment_id": a["id"],
             "server_id": a["instance"], "host_name": a.get("host"),
             "device": a.get("mountpoint"), "attached_at": a.get("attached_at")}
            for a in atts if a["attach_status"] == "attached"]
        if not atts:
            vol["status"], vol["attach_status"] = "available", "detached"
        elif any(a["attach_status"] == "attached" for a in atts):
            vol["status"], vol["attach_status"] = "in-use", "attached"
        elif any(a["attach_status"] == "attaching" for a in atts):
            vol["status"], vol["attach_status"] = "attaching", "attaching"
        else:
            vol["status"], vol["attach_status"] = "reserved", "reserved"

    def _multiattach(self, volume_type: Optional[str]) -> bool:
        """Cinder's rule: the volume type's ``multiattach`` extra spec decides."""
        for vtype in self.volume_types:
            if volume_type in (vtype["id"], vtype["name"]):
                return vtype.get("extra_specs", {}).get("multiattach") == "<is> True"
        return False

    def _view(self, att: dict) -> dict:
        doc = {k: att[k] for k in ("id", "volume_id", "instance", "attach_mode",
                                   "attached_at", "detached_at")}
        doc["status"] = att["attach_status"]
        doc["connection_info"] = dict(att["connection_info"]) if att["connection_info"] \
            else {}
        return cinder.translate_attachment(doc)

    # -- volumes ---------------------------------------------------------------------

    def get(self, ctx: Any, volume_id: str) -> dict:
        with self._lock:
            self.calls.append(("get", volume_id))
            return dict(self._volume(ctx, volume_id))

    def create(self, ctx: Any, size: int, name: Optional[str],
               description: Optional[str] = None, image_id: Optional[str] = None,
               snapshot_id: Optional[str] = None, volume_type: Optional[str] = None,
               availability_zone: Optional[str] = None) -> dict:
        with self._lock:
            self.calls.append(("create", size))
            if snapshot_id is not None and snapshot_id not in self.snapshots:
                raise exception.InvalidInput(reason=f"{snapshot_id} could not be found")
            vid = str(uuid.uuid4())
            vol = {"id": vid, "size": size, "name": name, "description": description,
                   "status": "available", "attach_status": "detached",
                   "availability_zone": availability_zone or self.availability_zone,
                   "volume_type": volume_type or "__DEFAULT__", "snapshot_id": snapshot_id,
                   "bootable": "true" if image_id else "false",
                   "multiattach": self._multiattach(volume_type),
                   "attachments": [],
                   "os-vol-tenant-attr:tenant_id": getattr(ctx, "project_id", None)}
            if image_id:
                vol["volume_image_metadata"] = {"image_id": image_id}
            self.volumes[vid] = vol
            return dict(vol)

    def delete(self, ctx: Any, volume_id: str) -> None:
        with self._lock:
            self.calls.append(("delete", volume_id))
            vol = self._volume(ctx, volume_id)
            if vol["status"] not in ("available", "error"):
                raise exception.InvalidInput(
                    reason=f"Invalid volume: Volume status must be available or error, "
                           f"but current status is: {vol['status']}")
            del self.volumes[volume_id]

    def reimage(self, ctx: Any, volume_id: str, image_id: str,
                reimage_reserved: bool = True) -> None:
        with self._lock:
            self.calls.append(("reimage", volume_id))
            vol = self._volume(ctx, volume_id)
            allowed = ("available", "error") + (("reserved",) if reimage_reserved else ())
            if vol["status"] not in allowed:
                raise exception.InvalidVolume(
                    reason=f"Volume {volume_id} status must be {' or '.join(allowed)}, "
                           f"but current status is: {vol['status']}")
            servers = sorted({a["instance"] for a in self.attachments.values()
                              if a["volume_id"] == volume_id})
            if self.reimage_fails:
                vol["status"], status = "error", "failed"
            else:
                vol["volume_image_metadata"] = {"image_id": image_id}
                status = "completed"
        if self.on_reimaged is not None and not self.reimage_silent:
            for server in servers:
                self.on_reimaged(server, volume_id, status)

    # -- attachments -----------------------------------------------------------------

    def attachment_create(self, ctx: Any, volume_id: str, instance_uuid: str,
                          connector: Optional[dict] = None,
                          mountpoint: Optional[str] = None) -> dict:
        with self._lock:
            self.calls.append(("attachment_create", volume_id))
            vol = self._volume(ctx, volume_id)
            # Cinder lets a server take a second attachment of its own volume (a move).
            same_server = any(a["instance"] == instance_uuid and a["volume_id"] == volume_id
                              for a in self.attachments.values())
            if vol["status"] not in cinder.ATTACHABLE and not vol["multiattach"] \
                    and not same_server:
                raise exception.InvalidVolume(
                    reason=f"Volume {volume_id} status must be available or downloading")
            att = {"id": str(uuid.uuid4()), "volume_id": volume_id,
                   "instance": instance_uuid, "attach_mode": "rw", "attached_at": None,
                   "detached_at": None, "attach_status": "reserved",
                   "connection_info": {}, "mountpoint": mountpoint}
            self.attachments[att["id"]] = att
            if connector is not None:
                self._connect(att, vol, connector)
            self._refresh(vol)
            return self._view(att)

    @staticmethod
    def _connect(att: dict, vol: dict, connector: dict) -> None:
        att["attach_status"] = "attaching"
        att["host"] = connector.get("host")
        att["mountpoint"] = connector.get("mountpoint", att.get("mountpoint"))
        att["connection_info"] = {
            "driver_volume_type": "rbd", "name": f"volumes/volume-{vol['id']}",
            "hosts": ["127.0.0.1"], "ports": ["6789"], "cluster_name": "ceph",
            "auth_enabled": True, "auth_username": "admin", "secret_type": "ceph",
            "secret_uuid": SECRET_UUID, "volume_id": vol["id"], "discard": True,
            "access_mode": "rw", "encrypted": False, "attachment_id": att["id"]}

    def attachment_get(self, ctx: Any, attachment_id: str) -> dict:
        with self._lock:
            self.calls.append(("attachment_get", attachment_id))
            return self._view(self._attachment(ctx, attachment_id))

    def attachment_update(self, ctx: Any, attachment_id: str, connector: dict,
                          mountpoint: Optional[str] = None) -> dict:
        with self._lock:
            self.calls.append(("attachment_update", attachment_id))
            att = self._attachment(ctx, attachment_id)
            vol = self.volumes[att["volume_id"]]
            self._connect(att, vol, dict(connector, **({"mountpoint": mountpoint}
                                                       if mountpoint else {})))
            self._refresh(vol)
            return self._view(att)

    def attachment_complete(self, ctx: Any, attachment_id: str) -> None:
        with self._lock:
            self.calls.append(("attachment_complete", attachment_id))
            att = self._attachment(ctx, attachment_id)
            att["attach_status"], att["attached_at"] = "attached", "now"
            self._refresh(self.volumes[att["volume_id"]])

    def attachment_delete(self, ctx: Any, attachment_id: str) -> None:
        with self._lock:
            self.calls.append(("attachment_delete", attachment_id))
            att = self._attachment(ctx, attachment_id)
            del self.attachments[attachment_id]
            self._refresh(self.volumes[att["volume_id"]])

    def get_all_volume_types(self, ctx: Any) -> list[dict]:
        self.calls.append(("get_all_volume_types", None))
        return [dict(t) for t in self.volume_types]

    # -- snapshots -------------------------------------------------------------------

    def create_snapshot_force(self, ctx: Any, volume_id: str, name: Optional[str],
                              description: Optional[str]) -> dict:
        with self._lock:
            self.calls.append(("create_snapshot_force", volume_id))
            vol = self._volume(ctx, volume_id)
            snap = {"id": str(uuid.uuid4()), "volume_id": volume_id, "name": name,
                    "description": description, "status": "available",
                    "size": vol["size"]}
            self.snapshots[snap["id"]] = snap
            return dict(snap)

    def get_snapshot(self, ctx: Any, snapshot_id: str) -> dict:
        with self._lock:
            self.calls.append(("get_snapshot", snapshot_id))
            if snapshot_id not in self.snapshots:
                raise exception.SnapshotNotFound(snapshot_id=snapshot_id)
            return dict(self.snapshots[snapshot_id])

    def delete_snapshot(self, ctx: Any, snapshot_id: str) -> None:
        with self._lock:
            self.calls.append(("delete_snapshot", snapshot_id))
            if self.snapshots.pop(snapshot_id, None) is None:
                raise exception.SnapshotNotFound(snapshot_id=snapshot_id)

    # -- checks ----------------------------------------------------------------------

    def check_availability_zone(self, volume: dict, instance_az: Optional[str]) -> None:
        cinder.check_availability_zone(volume, instance_az, self.cross_az_attach)

    check_swappable = cinder.API.check_swappable  # through this API's attachment_get
