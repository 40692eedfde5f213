"""BlockDeviceMapping: one disk of an instance and where it comes from, as Nova's.

Sources are ``image``, ``volume``, ``snapshot`` and ``blank``; destinations ``local``
(a disk file on the compute host: the image root, an ephemeral or swap disk) and
``volume`` (a Cinder volume). Records live in the instance's cell database and travel
to the compute as plain values; only the conductor reads and writes them.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from nova_lite.objects import base

SOURCE_TYPES = ("image", "volume", "snapshot", "blank")
DESTINATION_TYPES = ("local", "volume")


@base.register
class BlockDeviceMapping(base.NovaLiteObject):
    VERSION = "1.0"
    fields = {
        "id": fields.IntegerField(nullable=True),
        "uuid": fields.UUIDField(),
        "instance_uuid": fields.UUIDField(),
        "source_type": fields.StringField(nullable=True),
        "destination_type": fields.StringField(nullable=True),
        "device_name": fields.StringField(nullable=True),
        "device_type": fields.StringField(nullable=True),  # disk, cdrom, floppy, lun
        "disk_bus": fields.StringField(nullable=True),  # virtio, scsi, ide, usb, ...
        "boot_index": fields.IntegerField(nullable=True),  # None or <0: not bootable
        "guest_format": fields.StringField(nullable=True),  # swap, ext4, ...
        "volume_id": fields.StringField(nullable=True),
        "snapshot_id": fields.StringField(nullable=True),
        "image_id": fields.StringField(nullable=True),
        "volume_size": fields.IntegerField(nullable=True),  # GiB
        "volume_type": fields.StringField(nullable=True),
        "delete_on_termination": fields.BooleanField(default=False),
        "no_device": fields.BooleanField(default=False),
        "attachment_id": fields.StringField(nullable=True),
        # JSON text of Cinder's connection_info for the attachment on the host.
        "connection_info": fields.StringField(nullable=True),
        "tag": fields.StringField(nullable=True),
        "created_at": fields.DateTimeField(nullable=True),
        "updated_at": fields.DateTimeField(nullable=True),
    }

    @property
    def is_volume(self) -> bool:
        return self.get("destination_type") == "volume"

    @property
    def is_root(self) -> bool:
        return self.get("boot_index") == 0

    @property
    def is_swap(self) -> bool:
        return (self.get("source_type") == "blank" and self.get("destination_type") == "local"
                and self.get("guest_format") == "swap")

    @property
    def is_ephemeral(self) -> bool:
        return (self.get("source_type") == "blank" and self.get("destination_type") == "local"
                and self.get("guest_format") != "swap")

    def connection(self) -> Optional[dict]:
        """The connection_info as a dict (None before the volume is attached)."""
        text = self.get("connection_info")
        return json.loads(text) if text else None


@base.register
class BlockDeviceMappingList(ovo_base.ObjectListBase, base.NovaLiteObject):
    VERSION = "1.0"
    fields = {"objects": fields.ListOfObjectsField("BlockDeviceMapping")}

    @classmethod
    def of(cls, bdms: list) -> "BlockDeviceMappingList":
        out = cls(objects=list(bdms))
        out.obj_reset_changes()
        return out

    def root(self) -> Optional[BlockDeviceMapping]:
        """The boot disk's mapping (boot_index 0), if any."""
        return next((b for b in self.objects if b.is_root), None)

    def volumes(self) -> list[BlockDeviceMapping]:
        return [b for b in self.objects if b.is_volume]


def volume_backed(bdms: Any) -> bool:
    """Whether the mappings make a volume-backed server (its root is a volume)."""
    return any(b.get("boot_index") == 0 and b.get("destination_type") == "volume"
               for b in bdms)
