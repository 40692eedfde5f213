"""Rules for shelve, shelveOffload and unshelve; offloading and choosing the host are the
operator's (they decide where resources go), the rest the owner's."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

PREFIX = "os_compute_api:os-shelve:%s"


def _rule(name: str, check: str, action: str, description: str
          ) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(
        name=PREFIX % name, check_str=check, description=description,
        operations=[{"method": "POST", "path": f"/servers/{{server_id}}/action ({action})"}],
        scope_types=["project"])


rules = [
    _rule("shelve", base.PROJECT_MEMBER_OR_ADMIN, "shelve", "Shelve a server."),
    _rule("shelve_offload", base.ADMIN, "shelveOffload",
          "Offload a shelved server from its compute host."),
    _rule("unshelve", base.PROJECT_MEMBER_OR_ADMIN, "unshelve",
          "Unshelve a shelved or shelved-offloaded server."),
    _rule("unshelve_to_host", base.ADMIN, "unshelve",
          "Unshelve a shelved-offloaded server onto a chosen host (2.91)."),
]


def list_rules() -> list:
    return rules
