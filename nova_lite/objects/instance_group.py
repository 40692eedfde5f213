"""InstanceGroup: a server group and, for the scheduler, where its members run."""

from oslo_versionedobjects import fields

from nova_lite.objects import base

POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")


@base.register
class InstanceGroup(base.NovaLiteObject):
    VERSION = "1.0"
    fields = {
        "uuid": fields.UUIDField(),
        "name": fields.StringField(nullable=True),
        "project_id": fields.StringField(),
        "user_id": fields.StringField(nullable=True),
        "policy": fields.StringField(),
        # {"max_server_per_host": N} for anti-affinity, else empty.
        "rules": fields.DictOfIntegersField(default={}),
        "members": fields.ListOfStringsField(default=[]),
        # Hosts holding a claim of some member, with how many members each; filled in
        # by the conductor just before scheduling.
        "hosts": fields.DictOfIntegersField(default={}),
        "created_at": fields.DateTimeField(nullable=True),
    }

    def max_per_host(self) -> int:
        """How many members one host may hold under anti-affinity (1 unless a rule)."""
        return int((self.get("rules") or {}).get("max_server_per_host", 1))
