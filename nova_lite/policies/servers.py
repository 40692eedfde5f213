"""Rules for /servers: readers see their project's servers, members change them."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

PREFIX = "os_compute_api:servers:%s"
SCOPE = ["project"]


def _rule(name: str, check: str, method: str, path: str,
          description: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(
        name=PREFIX % name, check_str=check, description=description,
        operations=[{"method": method, "path": path}], scope_types=SCOPE)


rules = [
    _rule("index", base.PROJECT_READER_OR_ADMIN, "GET", "/servers",
          "List the project's servers."),
    _rule("detail", base.PROJECT_READER_OR_ADMIN, "GET", "/servers/detail",
          "List the project's servers with details."),
    _rule("index:get_all_tenants", base.ADMIN, "GET", "/servers",
          "List servers of every project (all_tenants=1)."),
    _rule("detail:get_all_tenants", base.ADMIN, "GET", "/servers/detail",
          "List servers of every project with details (all_tenants=1)."),
    _rule("show", base.PROJECT_READER_OR_ADMIN, "GET", "/servers/{server_id}",
          "Show one server."),
    _rule("show:host_status", base.ADMIN, "GET", "/servers/{server_id}",
          "Include host_status in a server's representation."),
    _rule("create", base.PROJECT_MEMBER_OR_ADMIN, "POST", "/servers",
          "Create a server."),
    _rule("update", base.PROJECT_MEMBER_OR_ADMIN, "PUT", "/servers/{server_id}",
          "Rename or otherwise update a server."),
    _rule("delete", base.PROJECT_MEMBER_OR_ADMIN, "DELETE", "/servers/{server_id}",
          "Delete a server."),
    _rule("reboot", base.PROJECT_MEMBER_OR_ADMIN, "POST", "/servers/{server_id}/action (reboot)",
          "Reboot a server."),
    _rule("start", base.PROJECT_MEMBER_OR_ADMIN, "POST",
          "/servers/{server_id}/action (os-start)", "Start a stopped server."),
    _rule("stop", base.PROJECT_MEMBER_OR_ADMIN, "POST",
          "/servers/{server_id}/action (os-stop)", "Stop a running server."),
    _rule("rebuild", base.PROJECT_MEMBER_OR_ADMIN, "POST",
          "/servers/{server_id}/action (rebuild)", "Rebuild a server from an image."),
    _rule("rebuild:trusted_certs", base.PROJECT_MEMBER_OR_ADMIN, "POST",
          "/servers/{server_id}/action (rebuild)",
          "Rebuild a server with trusted image certificates (2.63)."),
    _rule("resize", base.PROJECT_MEMBER_OR_ADMIN, "POST",
          "/servers/{server_id}/action (resize)", "Resize a server to another flavor."),
    _rule("confirm_resize", base.PROJECT_MEMBER_OR_ADMIN, "POST",
          "/servers/{server_id}/action (confirmResize)", "Confirm a resized server."),
    _rule("revert_resize", base.PROJECT_MEMBER_OR_ADMIN, "POST",
          "/servers/{server_id}/action (revertResize)",
          "Revert a resized server to its old flavor and host."),
]


def list_rules() -> list:
    return rules
