"""RequestSpec: what the scheduler must find a host for; Selection: where it put it."""

from oslo_versionedobjects import fields

from nova_lite.objects import base


@base.register
class RequestSpec(base.NovaLiteObject):
    VERSION = "1.0"
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
    }

    def resources(self) -> dict:
        """Resource classes and amounts one instance of this spec consumes."""
        flavor = self.flavor
        return {
            "VCPU": flavor.vcpus,
            "MEMORY_MB": flavor.memory_mb,
            "DISK_GB": flavor.root_gb + flavor.ephemeral_gb + (flavor.swap + 1023) // 1024,
        }


@base.register
class Selection(base.NovaLiteObject):
    VERSION = "1.0"
    fields = {
        "instance_uuid": fields.UUIDField(),
        "host": fields.StringField(),
        "nodename": fields.StringField(),
        "provider_uuid": fields.UUIDField(),
        "cell_uuid": fields.UUIDField(),
    }
