"""Instance (a server) and InstanceFault (why it failed)."""

from typing import Optional

from oslo_utils import versionutils
from oslo_versionedobjects import fields

from nova_lite.objects import base


@base.register
class InstanceFault(base.NovaLiteObject):
    VERSION = "1.0"
    fields = {
        "code": fields.IntegerField(),
        "message": fields.StringField(),
        "details": fields.StringField(nullable=True),
        "host": fields.StringField(nullable=True),
        "created_at": fields.DateTimeField(),
    }


@base.register
class Instance(base.NovaLiteObject):
    # 1.1: locked_by, system_metadata, old_flavor, new_flavor
    # 1.2: keypairs
    # 1.3: tags, pinned_availability_zone
    # 1.4: volumes_attached
    # 1.5: server_groups, host_status
    VERSION = "1.5"
    fields = {
        "id": fields.IntegerField(nullable=True),
        "uuid": fields.UUIDField(),
        "display_name": fields.StringField(nullable=True),
        "display_description": fields.StringField(nullable=True),
        "hostname": fields.StringField(nullable=True),
        "project_id": fields.StringField(),
        "user_id": fields.StringField(nullable=True),
        "host": fields.StringField(nullable=True),
        "node": fields.StringField(nullable=True),
        "vm_state": fields.StringField(nullable=True),
        "task_state": fields.StringField(nullable=True),
        "power_state": fields.IntegerField(),
        "image_ref": fields.StringField(nullable=True),
        "flavor": fields.ObjectField("Flavor"),
        "vcpus": fields.IntegerField(),
        "memory_mb": fields.IntegerField(),
        "root_gb": fields.IntegerField(),
        "key_name": fields.StringField(nullable=True),
        "availability_zone": fields.StringField(nullable=True),
        # The zone the server was asked into (2.96), None when it may go anywhere.
        "pinned_availability_zone": fields.StringField(nullable=True, default=None),
        "metadata": fields.DictOfStringsField(),
        "tags": fields.ListOfStringsField(default=[]),
        "user_data": fields.StringField(nullable=True),
        "access_ip_v4": fields.StringField(nullable=True),
        "access_ip_v6": fields.StringField(nullable=True),
        "config_drive": fields.StringField(nullable=True),
        "locked": fields.BooleanField(),
        "locked_by": fields.StringField(nullable=True),  # "owner" or "admin"
        # Internal key/values (Nova's system_metadata): locked_reason, old_vm_state, ...
        "system_metadata": fields.DictOfNullableStringsField(default={}),
        # The flavors of a resize in progress (None otherwise).
        "old_flavor": fields.ObjectField("Flavor", nullable=True),
        "new_flavor": fields.ObjectField("Flavor", nullable=True),
        "launch_index": fields.IntegerField(),
        "reservation_id": fields.StringField(nullable=True),
        "launched_at": fields.DateTimeField(nullable=True),
        "terminated_at": fields.DateTimeField(nullable=True),
        "created_at": fields.DateTimeField(nullable=True),
        "updated_at": fields.DateTimeField(nullable=True),
        "deleted": fields.BooleanField(),
        "deleted_at": fields.DateTimeField(nullable=True),
        "fault": fields.ObjectField("InstanceFault", nullable=True),
        # The cell the instance lives in (None while it is still a build request).
        "cell_name": fields.StringField(nullable=True),
        # JSON text: the network info cache (nova_lite.network.model; None: never
        # allocated) and what the create request asked for ({"networks": "auto" | "none"
        # | [{"network_id", "port_id", "fixed_ip", "tag"}], "security_groups": [names]}).
        "network_info": fields.StringField(nullable=True),
        "network_request": fields.StringField(nullable=True),
        # Copies of the key pairs it was created (or rebuilt) with, as Nova's
        # instance_extra.keypairs: [{"name", "type", "public_key", "fingerprint",
        # "user_id"}]. Read with one instance (not in lists).
        "keypairs": fields.ListOfDictOfNullableStringsField(nullable=True),
        # The attached volumes a server view shows ([{"id", "delete_on_termination"}]),
        # set by server lists, which read them with the page of servers.
        "volumes_attached": fields.Field(fields.List(fields.Dict(fields.FieldType()))),
        # What a server's show adds, set when the reader asks for it (server_get) so
        # that one call answers the show: the uuids of its server groups (2.71) and
        # its compute service's state (2.16 host_status: UP, DOWN, MAINTENANCE,
        # UNKNOWN, or "" without a host).
        "server_groups": fields.ListOfStringsField(),
        "host_status": fields.StringField(),
    }

    def obj_make_compatible(self, primitive: dict, target_version: str) -> None:
        super().obj_make_compatible(primitive, target_version)
        version = versionutils.convert_version_to_tuple(target_version)
        if version < (1, 5):
            for key in ("server_groups", "host_status"):
                primitive.pop(key, None)
        if version < (1, 4):
            primitive.pop("volumes_attached", None)
        if version < (1, 3):
            for key in ("tags", "pinned_availability_zone"):
                primitive.pop(key, None)
        if version < (1, 1):
            for key in ("locked_by", "system_metadata", "old_flavor", "new_flavor"):
                primitive.pop(key, None)
        if versionutils.convert_version_to_tuple(target_version) < (1, 2):
            primitive.pop("keypairs", None)

    @property
    def name(self) -> str:
        """The hypervisor-level name (Nova's instance_name_template)."""
        return instance_name(self.id if self.obj_attr_is_set("id") else None, self.uuid)


def instance_name(db_id: Optional[int], uuid: str) -> str:
    """The hypervisor-level name of an instance of this database id and uuid."""
    from nova_lite.conf import CONF

    if db_id is not None:
        try:
            return CONF.instance_name_template % db_id
        except (TypeError, ValueError):
            pass
    return f"instance-{uuid}"
