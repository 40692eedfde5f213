"""Migration: one move of an instance between compute nodes (a resize, a cold or live
migration, an evacuation), shaped as Nova's ``migrations`` records."""

from oslo_versionedobjects import fields

from nova_lite.objects import base

# What a step of a move does to its claims (see nova_lite.conductor.move_claims): the
# server's claim passes to the migration, returns to the server, or is dropped.
CLAIM_HOLD, CLAIM_RETURN, CLAIM_DROP = "hold", "return", "drop"

# Statuses (Nova's values) after which a move holds no claim and nothing runs for it.
FINAL_STATUSES = frozenset(("confirmed", "reverted", "error", "failed", "completed",
                            "cancelled", "done"))


@base.register
class Migration(base.NovaLiteObject):
    VERSION = "1.0"
    fields = {
        "id": fields.IntegerField(),
        "uuid": fields.UUIDField(),
        "instance_uuid": fields.UUIDField(),
        "migration_type": fields.StringField(),  # resize, migration, live-migration, ...
        "status": fields.StringField(),
        "source_compute": fields.StringField(nullable=True),
        "source_node": fields.StringField(nullable=True),
        "dest_compute": fields.StringField(nullable=True),
        "dest_node": fields.StringField(nullable=True),
        "dest_host": fields.StringField(nullable=True),
        "old_instance_type_id": fields.IntegerField(nullable=True),
        "new_instance_type_id": fields.IntegerField(nullable=True),
        "hidden": fields.BooleanField(),
        "cross_cell_move": fields.BooleanField(),
        "user_id": fields.StringField(nullable=True),
        "project_id": fields.StringField(nullable=True),
        "memory_total": fields.IntegerField(nullable=True),
        "memory_processed": fields.IntegerField(nullable=True),
        "memory_remaining": fields.IntegerField(nullable=True),
        "disk_total": fields.IntegerField(nullable=True),
        "disk_processed": fields.IntegerField(nullable=True),
        "disk_remaining": fields.IntegerField(nullable=True),
        "created_at": fields.DateTimeField(nullable=True),
        "updated_at": fields.DateTimeField(nullable=True),
        "deleted": fields.BooleanField(),
        "deleted_at": fields.DateTimeField(nullable=True),
    }

    @property
    def in_progress(self) -> bool:
        return self.status not in FINAL_STATUSES

    @property
    def same_host(self) -> bool:
        return self.dest_compute is not None and self.dest_compute == self.source_compute
