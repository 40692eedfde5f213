"""Tables of the API database: what spans cells (flavors, mappings, pending builds) and
placement-style resource accounting (providers, inventories, allocations)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from nova_lite.db.types import MediumText


def _now() -> datetime:
    return datetime.utcnow()


class ApiBase(DeclarativeBase):
    pass


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, onupdate=_now)


class CellMapping(TimestampMixin, ApiBase):
    __tablename__ = "cell_mappings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    transport_url: Mapped[str] = mapped_column(Text)
    database_connection: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class HostMapping(TimestampMixin, ApiBase):
    __tablename__ = "host_mappings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cell_id: Mapped[int] = mapped_column(ForeignKey("cell_mappings.id"))
    host: Mapped[str] = mapped_column(String(255), unique=True)


class InstanceMapping(TimestampMixin, ApiBase):
    __tablename__ = "instance_mappings"
    __table_args__ = (Index("instance_mappings_project_id_idx", "project_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    cell_id: Mapped[int | None] = mapped_column(ForeignKey("cell_mappings.id"))
    project_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(255))
    queued_for_delete: Mapped[bool] = mapped_column(Boolean, default=False)


class BuildRequest(TimestampMixin, ApiBase):
    """A server accepted by the API but not yet created in a cell."""

    __tablename__ = "build_requests"
    __table_args__ = (Index("build_requests_project_id_idx", "project_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    project_id: Mapped[str] = mapped_column(String(255))
    instance: Mapped[str] = mapped_column(MediumText)  # JSON of the Instance object's primitive


class RequestSpec(TimestampMixin, ApiBase):
    __tablename__ = "request_specs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    spec: Mapped[str] = mapped_column(MediumText)  # JSON of the RequestSpec object's primitive


class Flavor(TimestampMixin, ApiBase):
    __tablename__ = "flavors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flavorid: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    memory_mb: Mapped[int] = mapped_column(Integer)
    vcpus: Mapped[int] = mapped_column(Integer)
    root_gb: Mapped[int] = mapped_column(Integer, default=0)
    ephemeral_gb: Mapped[int] = mapped_column(Integer, default=0)
    swap: Mapped[int] = mapped_column(Integer, default=0)
    rxtx_factor: Mapped[float] = mapped_column(Float, default=1.0)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)


class FlavorExtraSpec(TimestampMixin, ApiBase):
    __tablename__ = "flavor_extra_specs"
    __table_args__ = (UniqueConstraint("flavor_id", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flavor_id: Mapped[int] = mapped_column(ForeignKey("flavors.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(String(255))


class ResourceProvider(TimestampMixin, ApiBase):
    """One compute node as the scheduler sees it; ``generation`` guards concurrent claims."""

    __tablename__ = "resource_providers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    cell_uuid: Mapped[str | None] = mapped_column(String(36))
    generation: Mapped[int] = mapped_column(Integer, default=0)


class Inventory(TimestampMixin, ApiBase):
    __tablename__ = "inventories"
    __table_args__ = (UniqueConstraint("resource_provider_id", "resource_class"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_provider_id: Mapped[int] = mapped_column(
        ForeignKey("resource_providers.id", ondelete="CASCADE"))
    resource_class: Mapped[str] = mapped_column(String(255))
    total: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    allocation_ratio: Mapped[float] = mapped_column(Float, default=1.0)


class Allocation(TimestampMixin, ApiBase):
    __tablename__ = "allocations"
    __table_args__ = (Index("allocations_consumer_id_idx", "consumer_id"),
                      Index("allocations_rp_class_idx", "resource_provider_id",
                            "resource_class"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_provider_id: Mapped[int] = mapped_column(
        ForeignKey("resource_providers.id", ondelete="CASCADE"))
    consumer_id: Mapped[str] = mapped_column(String(36))
    resource_class: Mapped[str] = mapped_column(String(255))
    used: Mapped[int] = mapped_column(Integer)


class FlavorProject(TimestampMixin, ApiBase):
    """A project allowed to see and use a private flavor."""

    __tablename__ = "flavor_projects"
    __table_args__ = (UniqueConstraint("flavor_id", "project_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flavor_id: Mapped[int] = mapped_column(ForeignKey("flavors.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(String(255))


class InstanceGroup(TimestampMixin, ApiBase):
    """A server group; ``generation`` serialises claims of its members (see placement)."""

    __tablename__ = "instance_groups"
    __table_args__ = (Index("instance_groups_project_id_idx", "project_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    project_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(255))
    policy: Mapped[str] = mapped_column(String(255))
    rules: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    generation: Mapped[int] = mapped_column(Integer, default=0)


class InstanceGroupMember(TimestampMixin, ApiBase):
    __tablename__ = "instance_group_member"
    __table_args__ = (UniqueConstraint("instance_uuid"),
                      Index("instance_group_member_group_idx", "group_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("instance_groups.id", ondelete="CASCADE"))
    instance_uuid: Mapped[str] = mapped_column(String(36))


class Aggregate(TimestampMixin, ApiBase):
    __tablename__ = "aggregates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)


class AggregateHost(TimestampMixin, ApiBase):
    __tablename__ = "aggregate_hosts"
    __table_args__ = (UniqueConstraint("host", "aggregate_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aggregate_id: Mapped[int] = mapped_column(ForeignKey("aggregates.id", ondelete="CASCADE"))
    host: Mapped[str] = mapped_column(String(255))


class AggregateMetadata(TimestampMixin, ApiBase):
    __tablename__ = "aggregate_metadata"
    __table_args__ = (UniqueConstraint("aggregate_id", "key"),
                      Index("aggregate_metadata_key_idx", "key"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aggregate_id: Mapped[int] = mapped_column(ForeignKey("aggregates.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))


class Trait(TimestampMixin, ApiBase):
    """A qualitative characteristic of a provider (os-traits names, or CUSTOM_*)."""

    __tablename__ = "traits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)


class ResourceProviderTrait(TimestampMixin, ApiBase):
    __tablename__ = "resource_provider_traits"
    __table_args__ = (UniqueConstraint("resource_provider_id", "trait_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_provider_id: Mapped[int] = mapped_column(
        ForeignKey("resource_providers.id", ondelete="CASCADE"))
    trait_id: Mapped[int] = mapped_column(ForeignKey("traits.id", ondelete="CASCADE"))


class ResourceProviderAggregate(TimestampMixin, ApiBase):
    """A provider's membership of an aggregate (Placement's ``member_of``); host
    aggregates are mirrored here as Nova mirrors them into Placement."""

    __tablename__ = "resource_provider_aggregates"
    __table_args__ = (UniqueConstraint("resource_provider_id", "aggregate_uuid"),
                      Index("rp_aggregates_uuid_idx", "aggregate_uuid"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_provider_id: Mapped[int] = mapped_column(
        ForeignKey("resource_providers.id", ondelete="CASCADE"))
    aggregate_uuid: Mapped[str] = mapped_column(String(36))


class KeyPair(TimestampMixin, ApiBase):
    """A user's public key (ssh or x509), injected into servers created with it."""

    __tablename__ = "key_pairs"
    __table_args__ = (UniqueConstraint("user_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(255))
    public_key: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(10), default="ssh")


class Quota(TimestampMixin, ApiBase):
    """A project's limit on one resource (absent: the default applies)."""

    __tablename__ = "quotas"
    __table_args__ = (UniqueConstraint("project_id", "resource"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255))
    resource: Mapped[str] = mapped_column(String(255))
    hard_limit: Mapped[int] = mapped_column(Integer)


class ProjectUserQuota(TimestampMixin, ApiBase):
    """One user's limit on one resource inside a project."""

    __tablename__ = "project_user_quotas"
    __table_args__ = (UniqueConstraint("user_id", "project_id", "resource"),
                      Index("project_user_quotas_project_id_idx", "project_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    resource: Mapped[str] = mapped_column(String(255))
    hard_limit: Mapped[int] = mapped_column(Integer)


class QuotaClass(TimestampMixin, ApiBase):
    """Defaults set through the API (class 'default'); they win over [quota] options."""

    __tablename__ = "quota_classes"
    __table_args__ = (UniqueConstraint("class_name", "resource"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_name: Mapped[str] = mapped_column(String(255))
    resource: Mapped[str] = mapped_column(String(255))
    hard_limit: Mapped[int] = mapped_column(Integer)


class QuotaLock(ApiBase):
    """One row per project, locked FOR UPDATE while a quota check counts usage and records
    the new usage, so concurrent requests of one project are checked one after another."""

    __tablename__ = "quota_locks"
    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
