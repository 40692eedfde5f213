"""RequestSpec: what the scheduler must find a host for; Selection: where it put it."""

import re

from oslo_utils import versionutils
from oslo_versionedobjects import fields

from nova_lite.objects import base

# resources[N]:RC=amount and trait[N]:NAME=required|forbidden flavor extra specs.
_RESOURCES = re.compile(r"^resources[a-zA-Z0-9_-]*:([A-Z0-9_]+)$")
_TRAIT = re.compile(r"^trait[a-zA-Z0-9_-]*:([A-Z0-9_]+)$")


@base.register
class RequestSpec(base.NovaLiteObject):
    # 1.1: instance_group, scheduler_hints
    # 1.2: block_device_mappings, is_bfv
    VERSION = "1.2"
    fields = {
        "instance_uuid": fields.UUIDField(),
        "project_id": fields.StringField(),
        "user_id": fields.StringField(nullable=True),
        "flavor": fields.ObjectField("Flavor"),
        "image_id": fields.StringField(nullable=True),
        "availability_zone": fields.StringField(nullable=True),
        "num_instances": fields.IntegerField(),
        "ignore_hosts": fields.ListOfStringsField(),
        "force_hosts": fields.ListOfStringsField(),
        "instance_group": fields.ObjectField("InstanceGroup", nullable=True),
        "scheduler_hints": fields.DictOfListOfStringsField(default={}),
        # The server's disks as requested (created in its cell with the server), and
        # whether its root disk is a volume (then it claims no local disk for it).
        "block_device_mappings": fields.ListOfObjectsField("BlockDeviceMapping",
                                                           default=[]),
        "is_bfv": fields.BooleanField(default=False),
    }

    def obj_make_compatible(self, primitive: dict, target_version: str) -> None:
        super().obj_make_compatible(primitive, target_version)
        if versionutils.convert_version_to_tuple(target_version) < (1, 2):
            primitive.pop("block_device_mappings", None)
            primitive.pop("is_bfv", None)

    def _extra_specs(self) -> dict:
        return dict(self.flavor.get("extra_specs") or {})

    def resources(self) -> dict:
        """Resource classes and amounts one instance of this spec consumes: the flavor's
        sizes (without the root disk of a volume-backed server, as Nova), overridden by
        its ``resources:RC=N`` extra specs (0 drops a class)."""
        flavor = self.flavor
        root_gb = 0 if self.get("is_bfv") else flavor.root_gb
        out = {
            "VCPU": flavor.vcpus,
            "MEMORY_MB": flavor.memory_mb,
            "DISK_GB": root_gb + flavor.ephemeral_gb + (flavor.swap + 1023) // 1024,
        }
        for key, value in self._extra_specs().items():
            m = _RESOURCES.match(key)
            if m:
                try:
                    out[m.group(1)] = int(value)
                except (TypeError, ValueError):
                    continue
        return {rc: amount for rc, amount in out.items() if amount > 0}

    def traits(self) -> tuple[list[str], list[str]]:
        """(required, forbidden) traits from the flavor's ``trait:NAME`` extra specs."""
        required, forbidden = [], []
        for key, value in self._extra_specs().items():
            m = _TRAIT.match(key)
            if m and value == "required":
                required.append(m.group(1))
            elif m and value == "forbidden":
                forbidden.append(m.group(1))
        return sorted(required), sorted(forbidden)

    def group(self) -> "base.NovaLiteObject | None":
        return self.get("instance_group")


@base.register
class Selection(base.NovaLiteObject):
    # 1.1: availability_zone
    VERSION = "1.1"
    fields = {
        "instance_uuid": fields.UUIDField(),
        "host": fields.StringField(),
        "nodename": fields.StringField(),
        "provider_uuid": fields.UUIDField(),
        "cell_uuid": fields.UUIDField(),
        # The host's zone in the view the scheduler chose it from: what the server
        # records, with no read of the aggregates per build.
        "availability_zone": fields.StringField(nullable=True, default=None),
    }

    def obj_make_compatible(self, primitive: dict, target_version: str) -> None:
        super().obj_make_compatible(primitive, target_version)
        if versionutils.convert_version_to_tuple(target_version) < (1, 1):
            primitive.pop("availability_zone", None)
