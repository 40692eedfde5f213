"""KeyPair: a user's public key; instances keep a copy of the ones they were created with."""

from oslo_versionedobjects import fields

from nova_lite.objects import base


@base.register
class KeyPair(base.NovaLiteObject):
    VERSION = "1.0"
    fields = {
        "id": fields.IntegerField(nullable=True),
        "name": fields.StringField(),
        "user_id": fields.StringField(nullable=True),
        "fingerprint": fields.StringField(nullable=True),
        "public_key": fields.StringField(),
        "type": fields.StringField(),
        "created_at": fields.DateTimeField(nullable=True),
        "updated_at": fields.DateTimeField(nullable=True),
    }

    def copy_for_instance(self) -> dict:
        """What an instance keeps (instance_extra.keypairs): enough for the metadata
        service and config drive to deliver the key."""
        return {"name": self.name, "type": self.type, "public_key": self.public_key,
                "fingerprint": self.get("fingerprint"), "user_id": self.get("user_id")}
