"""Tables of a cell database: instances and what happens to them, services, compute nodes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from nova_lite.db.types import MediumText, case_sensitive_string


def _now() -> datetime:
    return datetime.utcnow()


class MainBase(DeclarativeBase):
    pass


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, onupdate=_now)


class SoftDeleteMixin:
    """Rows are marked deleted (deleted = id) rather than removed, as Nova does."""

    deleted: Mapped[int] = mapped_column(Integer, default=0)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)


class Instance(TimestampMixin, SoftDeleteMixin, MainBase):
    __tablename__ = "instances"
    __table_args__ = (
        # A list page in the default order (newest first, then uuid) of all projects
        # or of one is read from these rather than sorting every live row.
        Index("instances_deleted_created_at_uuid_idx", "deleted", "created_at", "uuid"),
        Index("instances_project_id_deleted_created_at_uuid_idx", "project_id", "deleted",
              "created_at", "uuid"),
        Index("instances_host_deleted_idx", "host", "deleted"),
        Index("instances_created_at_idx", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    display_description: Mapped[str | None] = mapped_column(Text)
    hostname: Mapped[str | None] = mapped_column(String(255))
    project_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(255))
    host: Mapped[str | None] = mapped_column(String(255))
    node: Mapped[str | None] = mapped_column(String(255))
    vm_state: Mapped[str | None] = mapped_column(String(255))
    task_state: Mapped[str | None] = mapped_column(String(255))
    power_state: Mapped[int] = mapped_column(Integer, default=0)
    image_ref: Mapped[str | None] = mapped_column(String(255))
    flavor: Mapped[str] = mapped_column(Text)  # JSON of the Flavor object's primitive
    vcpus: Mapped[int] = mapped_column(Integer)
    memory_mb: Mapped[int] = mapped_column(Integer)
    root_gb: Mapped[int] = mapped_column(Integer)
    key_name: Mapped[str | None] = mapped_column(String(255))
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    # The zone the user asked for (or default_schedule_zone), shown as 2.96's
    # pinned_availability_zone; None when the server may land in any zone.
    pinned_availability_zone: Mapped[str | None] = mapped_column(String(255))
    metadata_json: Mapped[str] = mapped_column(MediumText, default="{}")
    user_data: Mapped[str | None] = mapped_column(MediumText)
    access_ip_v4: Mapped[str | None] = mapped_column(String(39))
    access_ip_v6: Mapped[str | None] = mapped_column(String(39))
    config_drive: Mapped[str | None] = mapped_column(String(255))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who locked it: "owner" (its project) or "admin" (anyone else), as Nova records.
    locked_by: Mapped[str | None] = mapped_column(String(255))
    # Nova's system_metadata: the server's internal key/values (JSON object of strings),
    # e.g. locked_reason, or old_vm_state while a resize waits for confirmation.
    system_metadata: Mapped[str | None] = mapped_column(Text)
    # Both flavors of a resize in progress (JSON, like ``flavor``), as Nova's
    # instance_extra keeps them; None otherwise.
    old_flavor: Mapped[str | None] = mapped_column(Text)
    new_flavor: Mapped[str | None] = mapped_column(Text)
    launch_index: Mapped[int] = mapped_column(Integer, default=0)
    reservation_id: Mapped[str | None] = mapped_column(String(255))
    launched_at: Mapped[datetime | None] = mapped_column(DateTime)
    terminated_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The lease of the build attempt that chose the host (the latest wins: see
    # instances.instance_create_with_action).
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime)


class InstanceFault(TimestampMixin, MainBase):
    __tablename__ = "instance_faults"
    __table_args__ = (Index("instance_faults_instance_uuid_idx", "instance_uuid"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(String(36))
    code: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(String(1024))
    details: Mapped[str | None] = mapped_column(MediumText)
    host: Mapped[str | None] = mapped_column(String(255))


class InstanceAction(TimestampMixin, MainBase):
    __tablename__ = "instance_actions"
    __table_args__ = (Index("instance_actions_uuid_req_idx", "instance_uuid", "request_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(255))
    instance_uuid: Mapped[str] = mapped_column(String(36))
    request_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(255))
    project_id: Mapped[str | None] = mapped_column(String(255))
    start_time: Mapped[datetime] = mapped_column(DateTime, default=_now)
    finish_time: Mapped[datetime | None] = mapped_column(DateTime)
    message: Mapped[str | None] = mapped_column(String(255))


class InstanceActionEvent(TimestampMixin, MainBase):
    __tablename__ = "instance_actions_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("instance_actions.id"))
    event: Mapped[str] = mapped_column(String(255))
    start_time: Mapped[datetime] = mapped_column(DateTime, default=_now)
    finish_time: Mapped[datetime | None] = mapped_column(DateTime)
    result: Mapped[str | None] = mapped_column(String(255))
    traceback: Mapped[str | None] = mapped_column(MediumText)
    host: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[str | None] = mapped_column(Text)


class Service(TimestampMixin, SoftDeleteMixin, MainBase):
    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("host", "binary", "deleted"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    binary: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str | None] = mapped_column(String(255))
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    forced_down: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_up: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ComputeNode(TimestampMixin, SoftDeleteMixin, MainBase):
    __tablename__ = "compute_nodes"
    __table_args__ = (UniqueConstraint("host", "hypervisor_hostname", "deleted"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    service_id: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    hypervisor_hostname: Mapped[str] = mapped_column(String(255))
    hypervisor_type: Mapped[str] = mapped_column(String(255))
    hypervisor_version: Mapped[int] = mapped_column(Integer)
    cpu_info: Mapped[str] = mapped_column(Text, default="")
    host_ip: Mapped[str | None] = mapped_column(String(39))
    vcpus: Mapped[int] = mapped_column(Integer)
    memory_mb: Mapped[int] = mapped_column(Integer)
    local_gb: Mapped[int] = mapped_column(Integer)
    vcpus_used: Mapped[int] = mapped_column(Integer, default=0)
    memory_mb_used: Mapped[int] = mapped_column(Integer, default=0)
    local_gb_used: Mapped[int] = mapped_column(Integer, default=0)
    running_vms: Mapped[int] = mapped_column(Integer, default=0)
    mapped: Mapped[int] = mapped_column(Integer, default=0)


class Tag(MainBase):
    """A server's tag (Nova's ``tags`` table: resource_id is the instance uuid)."""

    __tablename__ = "tags"
    __table_args__ = (Index("tags_tag_idx", "tag"),)
    resource_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Case counts, on every database (a server may carry both "b" and "B").
    tag: Mapped[str] = mapped_column(case_sensitive_string(80), primary_key=True)


class Migration(TimestampMixin, SoftDeleteMixin, MainBase):
    """A move of an instance between compute nodes (Nova's ``migrations``): a resize, and
    the operator's cold and live migrations and evacuations. While it runs, its uuid is
    the consumer of the claim on the source node, the instance's uuid that on the
    destination."""

    __tablename__ = "migrations"
    __table_args__ = (
        Index("migrations_instance_uuid_and_status_idx", "deleted", "instance_uuid",
              "status"),
        Index("migrations_source_status_idx", "deleted", "source_compute", "status"),
        Index("migrations_dest_status_idx", "deleted", "dest_compute", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    instance_uuid: Mapped[str] = mapped_column(String(36))
    migration_type: Mapped[str] = mapped_column(String(255))  # resize, migration, ...
    status: Mapped[str] = mapped_column(String(255))
    source_compute: Mapped[str | None] = mapped_column(String(255))
    source_node: Mapped[str | None] = mapped_column(String(255))
    dest_compute: Mapped[str | None] = mapped_column(String(255))
    dest_node: Mapped[str | None] = mapped_column(String(255))
    dest_host: Mapped[str | None] = mapped_column(String(255))  # the destination's IP
    old_instance_type_id: Mapped[int | None] = mapped_column(Integer)
    new_instance_type_id: Mapped[int | None] = mapped_column(Integer)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    cross_cell_move: Mapped[bool] = mapped_column(Boolean, default=False)
    user_id: Mapped[str | None] = mapped_column(String(255))
    project_id: Mapped[str | None] = mapped_column(String(255))
    memory_total: Mapped[int | None] = mapped_column(BigInteger)
    memory_processed: Mapped[int | None] = mapped_column(BigInteger)
    memory_remaining: Mapped[int | None] = mapped_column(BigInteger)
    disk_total: Mapped[int | None] = mapped_column(BigInteger)
    disk_processed: Mapped[int | None] = mapped_column(BigInteger)
    disk_remaining: Mapped[int | None] = mapped_column(BigInteger)


class ConsoleAuthToken(TimestampMixin, MainBase):
    """A console token handed to a user: only its hash is stored, with where it leads
    and when it expires (Nova's console_auth_tokens)."""

    __tablename__ = "console_auth_tokens"
    __table_args__ = (
        Index("console_auth_tokens_token_hash_idx", "token_hash"),
        Index("console_auth_tokens_instance_uuid_idx", "instance_uuid"),
        UniqueConstraint("token_hash"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(255))
    console_type: Mapped[str] = mapped_column(String(255))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    internal_access_path: Mapped[str | None] = mapped_column(String(255))
    instance_uuid: Mapped[str] = mapped_column(String(36))
    expires: Mapped[int] = mapped_column(Integer)
    access_url_base: Mapped[str | None] = mapped_column(String(255))


class InstanceInfoCache(TimestampMixin, MainBase):
    """What an instance is plugged into (nova_lite.network.model) and what was asked for."""

    __tablename__ = "instance_info_caches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    network_info: Mapped[str | None] = mapped_column(MediumText)
    network_request: Mapped[str | None] = mapped_column(Text)


class InstanceExtra(MainBase):
    """What an instance carries besides its row, as Nova's instance_extra: ``keypairs`` is
    a JSON copy of the key pairs it was created with (name, type, public key), so the
    metadata service or config drive can deliver them without the key_pairs table."""

    __tablename__ = "instance_extra"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    keypairs: Mapped[str | None] = mapped_column(Text)


class BlockDeviceMapping(TimestampMixin, SoftDeleteMixin, MainBase):
    """A disk of an instance and where it comes from (Nova's block_device_mapping): the
    image root, a Cinder volume (existing, or made by nova from an image, a snapshot or
    nothing), or a local ephemeral or swap disk. ``connection_info`` is the JSON Cinder
    returned for the volume's attachment on the instance's host."""

    __tablename__ = "block_device_mapping"
    __table_args__ = (
        Index("block_device_mapping_instance_uuid_idx", "instance_uuid"),
        Index("block_device_mapping_volume_id_idx", "volume_id"),
        Index("block_device_mapping_instance_uuid_device_name_idx", "instance_uuid",
              "device_name"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    instance_uuid: Mapped[str] = mapped_column(String(36))
    source_type: Mapped[str | None] = mapped_column(String(255))
    destination_type: Mapped[str | None] = mapped_column(String(255))
    device_name: Mapped[str | None] = mapped_column(String(255))
    device_type: Mapped[str | None] = mapped_column(String(255))
    disk_bus: Mapped[str | None] = mapped_column(String(255))
    boot_index: Mapped[int | None] = mapped_column(Integer)
    guest_format: Mapped[str | None] = mapped_column(String(255))
    volume_id: Mapped[str | None] = mapped_column(String(36))
    snapshot_id: Mapped[str | None] = mapped_column(String(36))
    image_id: Mapped[str | None] = mapped_column(String(36))
    volume_size: Mapped[int | None] = mapped_column(Integer)
    volume_type: Mapped[str | None] = mapped_column(String(255))
    delete_on_termination: Mapped[bool] = mapped_column(Boolean, default=False)
    no_device: Mapped[bool] = mapped_column(Boolean, default=False)
    attachment_id: Mapped[str | None] = mapped_column(String(36))
    connection_info: Mapped[str | None] = mapped_column(MediumText)
    tag: Mapped[str | None] = mapped_column(String(255))
