"""Schema migrations of the API and cell databases, on SQLite and MariaDB."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from nova_lite.db import api_models, bootstrap, main_models, migration
from nova_lite.db import engine as db_engine

SCHEMAS = {
    "api": (api_models.ApiBase.metadata, {"cell_mappings", "host_mappings", "flavors",
                                          "resource_providers", "inventories",
                                          "allocations", "build_requests", "flavor_projects",
                                          "instance_groups", "instance_group_member",
                                          "aggregates", "aggregate_hosts",
                                          "aggregate_metadata", "traits",
                                          "resource_provider_traits", "key_pairs", "quotas",
                                          "project_user_quotas", "quota_classes",
                                          "quota_locks"}),
    "main": (main_models.MainBase.metadata, {"instances", "instance_faults", "services",
                                             "compute_nodes", "instance_actions",
                                             "instance_actions_events", "tags", "migrations",
                                             "console_auth_tokens", "instance_info_caches",
                                             "instance_extra", "block_device_mapping"}),
}


@pytest.mark.parametrize("database", sorted(SCHEMAS))
def test_sync_to_head_is_idempotent(database: str, db_url: str) -> None:
    assert migration.current_version(database, db_url) is None
    migration.sync(database, db_url)
    head = migration.head_version(database)
    assert head
    assert migration.current_version(database, db_url) == head
    migration.sync(database, db_url)  # a second sync changes nothing
    assert migration.current_version(database, db_url) == head
    tables = set(sa.inspect(db_engine.get_engine(db_url)).get_table_names())
    assert SCHEMAS[database][1] <= tables


@pytest.mark.parametrize("database", sorted(SCHEMAS))
def test_migrated_schema_matches_models(database: str, db_url: str) -> None:
    bootstrap.sync(database, db_url)
    metadata = SCHEMAS[database][0]
    with db_engine.get_engine(db_url).connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(ctx, metadata)
    assert diffs == []


def test_head_versions_differ_per_schema() -> None:
    assert migration.head_version("api") != migration.head_version("main")
