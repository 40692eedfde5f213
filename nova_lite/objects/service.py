"""Service: one running daemon (nova-compute on host c1, ...)."""

from oslo_versionedobjects import fields

from nova_lite.objects import base


@base.register
class Service(base.NovaLiteObject):
    VERSION = "1.0"
    fields = {
        "id": fields.IntegerField(),
        "uuid": fields.UUIDField(),
        "host": fields.StringField(),
        "binary": fields.StringField(),
        "topic": fields.StringField(nullable=True),
        "report_count": fields.IntegerField(),
        "disabled": fields.BooleanField(),
        "disabled_reason": fields.StringField(nullable=True),
        "forced_down": fields.BooleanField(),
        "last_seen_up": fields.DateTimeField(nullable=True),
        "created_at": fields.DateTimeField(nullable=True),
        "updated_at": fields.DateTimeField(nullable=True),
        "is_up": fields.BooleanField(),
        "cell_name": fields.StringField(nullable=True),
    }

    def host_status(self) -> str:
        """What server views show of a host through this (compute) service (2.16
        host_status)."""
        return host_status(self.is_up, self.forced_down, self.disabled)


def host_status(is_up: bool, forced_down: bool, disabled: bool) -> str:
    """A compute service's 2.16 host_status: DOWN when it stopped reporting or is
    forced down, MAINTENANCE when an operator disabled it, else UP."""
    if forced_down or not is_up:
        return "DOWN"
    return "MAINTENANCE" if disabled else "UP"
