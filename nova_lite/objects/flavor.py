"""Flavor: the size of a server."""

from oslo_versionedobjects import fields

from nova_lite.objects import base


@base.register
class Flavor(base.NovaLiteObject):
    VERSION = "1.0"
    fields = {
        "id": fields.IntegerField(),
        "flavorid": fields.StringField(),
        "name": fields.StringField(),
        "memory_mb": fields.IntegerField(),
        "vcpus": fields.IntegerField(),
        "root_gb": fields.IntegerField(),
        "ephemeral_gb": fields.IntegerField(),
        "swap": fields.IntegerField(),
        "rxtx_factor": fields.FloatField(),
        "is_public": fields.BooleanField(),
        "disabled": fields.BooleanField(),
        "description": fields.StringField(nullable=True),
        "extra_specs": fields.DictOfNullableStringsField(),
    }
