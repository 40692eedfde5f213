"""ProviderSummary: a compute node's capacity and usage as the scheduler sees it."""

from oslo_versionedobjects import fields

from nova_lite.objects import base


@base.register
class ProviderSummary(base.NovaLiteObject):
    # 1.1: traits, availability_zone, aggregate_metadata
    # 1.2: service_disabled_reason, service_forced_down
    VERSION = "1.2"
    fields = {
        "uuid": fields.UUIDField(),
        "name": fields.StringField(),
        "host": fields.StringField(),
        "cell_uuid": fields.StringField(nullable=True),
        "generation": fields.IntegerField(),
        # {resource_class: {"total", "reserved", "allocation_ratio", "used"}}
        "resources": fields.Field(fields.Dict(fields.Dict(fields.Float()))),
        "service_up": fields.BooleanField(),
        "service_disabled": fields.BooleanField(),
        "service_disabled_reason": fields.StringField(nullable=True, default=None),
        "service_forced_down": fields.BooleanField(default=False),
        "traits": fields.ListOfStringsField(default=[]),
        # The host's zone (from its aggregates, else [DEFAULT] default_availability_zone).
        "availability_zone": fields.StringField(nullable=True, default=None),
        # key -> values over every aggregate holding the host.
        "aggregate_metadata": fields.DictOfListOfStringsField(default={}),
    }

    def capacity(self, rc: str) -> float:
        r = self.resources.get(rc)
        if not r:
            return 0
        return (r["total"] - r["reserved"]) * r["allocation_ratio"]

    def free(self, rc: str) -> float:
        r = self.resources.get(rc)
        return self.capacity(rc) - r["used"] if r else 0
