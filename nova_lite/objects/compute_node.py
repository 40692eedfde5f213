"""ComputeNode: a hypervisor's resources, as reported by its compute service."""

from oslo_versionedobjects import fields

from nova_lite.objects import base


@base.register
class ComputeNode(base.NovaLiteObject):
    VERSION = "1.0"
    fields = {
        "id": fields.IntegerField(),
        "uuid": fields.UUIDField(),
        "host": fields.StringField(),
        "hypervisor_hostname": fields.StringField(),
        "hypervisor_type": fields.StringField(),
        "hypervisor_version": fields.IntegerField(),
        "cpu_info": fields.StringField(),
        "host_ip": fields.StringField(nullable=True),
        "vcpus": fields.IntegerField(),
        "memory_mb": fields.IntegerField(),
        "local_gb": fields.IntegerField(),
        "vcpus_used": fields.IntegerField(),
        "memory_mb_used": fields.IntegerField(),
        "local_gb_used": fields.IntegerField(),
        "running_vms": fields.IntegerField(),
        "service_id": fields.IntegerField(nullable=True),
        "service_disabled": fields.BooleanField(),
        "service_up": fields.BooleanField(),
        "service_host": fields.StringField(),
        "cell_name": fields.StringField(nullable=True),
    }
