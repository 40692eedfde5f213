"""Rules for the operator's moves: live migration (and its force-complete and abort) and
evacuation; admins only, as Nova's defaults."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base


def _rule(name: str, method: str, path: str, description: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(
        name=name, check_str=base.ADMIN, description=description,
        operations=[{"method": method, "path": path}], scope_types=["project"])


rules = [
    _rule("os_compute_api:os-migrate-server:migrate_live", "POST",
          "/servers/{server_id}/action (os-migrateLive)",
          "Live-migrate a server to another host without rebooting it."),
    _rule("os_compute_api:servers:migrations:force_complete", "POST",
          "/servers/{server_id}/migrations/{migration_id}/action (force_complete)",
          "Force an in-progress live migration of a server to complete."),
    _rule("os_compute_api:servers:migrations:delete", "DELETE",
          "/servers/{server_id}/migrations/{migration_id}",
          "Abort an in-progress live migration of a server."),
    _rule("os_compute_api:os-evacuate", "POST", "/servers/{server_id}/action (evacuate)",
          "Evacuate a server from a failed host to another host."),
]


def list_rules() -> list:
    return rules
