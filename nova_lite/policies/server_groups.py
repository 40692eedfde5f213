"""Rules for /os-server-groups: a project's readers see its groups, its members make and
delete them; only admins list every project's."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

PREFIX = "os_compute_api:os-server-groups:%s"
_PATH = "/os-server-groups"

rules = [
    policy.DocumentedRuleDefault(
        name=PREFIX % name, check_str=check, description=description,
        operations=[{"method": method, "path": path}], scope_types=["project"])
    for name, check, method, path, description in (
        ("create", base.PROJECT_MEMBER_OR_ADMIN, "POST", _PATH, "Create a server group."),
        ("delete", base.PROJECT_MEMBER_OR_ADMIN, "DELETE", _PATH + "/{server_group_id}",
         "Delete a server group."),
        ("index", base.PROJECT_READER_OR_ADMIN, "GET", _PATH,
         "List the project's server groups."),
        ("index:all_projects", base.ADMIN, "GET", _PATH,
         "List the server groups of every project (all_projects=True)."),
        ("show", base.PROJECT_READER_OR_ADMIN, "GET", _PATH + "/{server_group_id}",
         "Show a server group."),
    )
]


def list_rules() -> list:
    return rules
