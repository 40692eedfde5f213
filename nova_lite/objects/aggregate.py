"""Aggregate: a named set of hosts with metadata (``availability_zone`` makes a zone)."""

from oslo_versionedobjects import fields

from nova_lite.objects import base


@base.register
class Aggregate(base.NovaLiteObject):
    VERSION = "1.0"
    fields = {
        "id": fields.IntegerField(),
        "uuid": fields.UUIDField(),
        "name": fields.StringField(),
        "hosts": fields.ListOfStringsField(default=[]),
        "metadata": fields.DictOfStringsField(default={}),
        "created_at": fields.DateTimeField(nullable=True),
        "updated_at": fields.DateTimeField(nullable=True),
    }

    @property
    def availability_zone(self) -> "str | None":
        return (self.metadata or {}).get("availability_zone")
