"""InstanceAction and its events: the audit trail of what was done to a server."""

from oslo_versionedobjects import fields

from nova_lite.objects import base


@base.register
class InstanceActionEvent(base.NovaLiteObject):
    VERSION = "1.0"
    fields = {
        "event": fields.StringField(),
        "start_time": fields.DateTimeField(),
        "finish_time": fields.DateTimeField(nullable=True),
        "result": fields.StringField(nullable=True),
        "traceback": fields.StringField(nullable=True),
        "host": fields.StringField(nullable=True),
        "details": fields.StringField(nullable=True),
    }


@base.register
class InstanceAction(base.NovaLiteObject):
    VERSION = "1.0"
    fields = {
        "action": fields.StringField(),
        "instance_uuid": fields.UUIDField(),
        "request_id": fields.StringField(),
        "user_id": fields.StringField(nullable=True),
        "project_id": fields.StringField(nullable=True),
        "start_time": fields.DateTimeField(),
        "finish_time": fields.DateTimeField(nullable=True),
        "message": fields.StringField(nullable=True),
        "updated_at": fields.DateTimeField(nullable=True),
        "events": fields.ListOfObjectsField("InstanceActionEvent"),
    }
