"""Rules for migration records and the operator's moves: all of them reveal hosts or
move servers between them, so they are admin-only by default (as in Nova)."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

SERVER_MIGRATIONS = "os_compute_api:servers:migrations:%s"

rules = [
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-migrations:index", check_str=base.ADMIN,
        description="List migrations of every kind, in every project.",
        operations=[{"method": "GET", "path": "/os-migrations"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=SERVER_MIGRATIONS % "index", check_str=base.ADMIN,
        description="List a server's live migrations in progress.",
        operations=[{"method": "GET", "path": "/servers/{server_id}/migrations"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=SERVER_MIGRATIONS % "show", check_str=base.ADMIN,
        description="Show one of a server's live migrations in progress.",
        operations=[{"method": "GET",
                     "path": "/servers/{server_id}/migrations/{migration_id}"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-migrate-server:migrate", check_str=base.ADMIN,
        description="Cold-migrate a server to another host (the scheduler picks it).",
        operations=[{"method": "POST", "path": "/servers/{server_id}/action (migrate)"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-migrate-server:migrate:host", check_str=base.ADMIN,
        description="Cold-migrate a server to a host of the caller's choice (2.56).",
        operations=[{"method": "POST", "path": "/servers/{server_id}/action (migrate)"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
