"""Flavor: the size of a server."""

from oslo_utils import versionutils
from oslo_versionedobjects import fields

from nova_lite.objects import base


@base.register
class Flavor(base.NovaLiteObject):
    # 1.1: projects
    VERSION = "1.1"
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
        # Projects given access to a private flavor.
        "projects": fields.ListOfStringsField(default=[]),
    }

    def obj_make_compatible(self, primitive: dict, target_version: str) -> None:
        super().obj_make_compatible(primitive, target_version)
        if versionutils.convert_version_to_tuple(target_version) < (1, 1):
            primitive.pop("projects", None)
