"""Rules of /servers/{server_id}/os-volume_attachments (Nova's names)."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

PREFIX = "os_compute_api:os-volumes-attachments:%s"
PATH = "/servers/{server_id}/os-volume_attachments"


def _rule(name: str, check: str, description: str, method: str, path: str
          ) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(
        name=PREFIX % name, check_str=check, description=description,
        operations=[{"method": method, "path": path}], scope_types=["project"])


rules = [
    _rule("index", base.PROJECT_READER_OR_ADMIN, "List the volumes attached to a server.",
          "GET", PATH),
    _rule("show", base.PROJECT_READER_OR_ADMIN, "Show one volume attachment of a server.",
          "GET", PATH + "/{volume_id}"),
    _rule("create", base.PROJECT_MEMBER_OR_ADMIN, "Attach a volume to a server.", "POST",
          PATH),
    _rule("update", base.PROJECT_MEMBER_OR_ADMIN,
          "Change a volume attachment of a server (delete_on_termination, 2.85).", "PUT",
          PATH + "/{volume_id}"),
    _rule("swap", base.ADMIN, "Swap the volume of an attachment for another volume.",
          "PUT", PATH + "/{volume_id}"),
    _rule("delete", base.PROJECT_MEMBER_OR_ADMIN, "Detach a volume from a server.",
          "DELETE", PATH + "/{volume_id}"),
]


def list_rules() -> list:
    return rules
