"""Rules for a server's metadata and tags: its project's readers see them, its members
change them."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

_META = "/servers/{server_id}/metadata"
_TAGS = "/servers/{server_id}/tags"

rules = [
    policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{"method": method, "path": path}], scope_types=["project"])
    for name, check, method, path, description in (
        ("os_compute_api:server-metadata:index", base.PROJECT_READER_OR_ADMIN, "GET",
         _META, "List a server's metadata."),
        ("os_compute_api:server-metadata:show", base.PROJECT_READER_OR_ADMIN, "GET",
         _META + "/{key}", "Show one metadata item of a server."),
        ("os_compute_api:server-metadata:create", base.PROJECT_MEMBER_OR_ADMIN, "POST",
         _META, "Add or change metadata items of a server."),
        ("os_compute_api:server-metadata:update_all", base.PROJECT_MEMBER_OR_ADMIN, "PUT",
         _META, "Replace a server's metadata."),
        ("os_compute_api:server-metadata:update", base.PROJECT_MEMBER_OR_ADMIN, "PUT",
         _META + "/{key}", "Set one metadata item of a server."),
        ("os_compute_api:server-metadata:delete", base.PROJECT_MEMBER_OR_ADMIN, "DELETE",
         _META + "/{key}", "Delete one metadata item of a server."),
        ("os_compute_api:os-server-tags:index", base.PROJECT_READER_OR_ADMIN, "GET",
         _TAGS, "List a server's tags."),
        ("os_compute_api:os-server-tags:show", base.PROJECT_READER_OR_ADMIN, "GET",
         _TAGS + "/{tag}", "Check whether a server has a tag."),
        ("os_compute_api:os-server-tags:update_all", base.PROJECT_MEMBER_OR_ADMIN, "PUT",
         _TAGS, "Replace a server's tags."),
        ("os_compute_api:os-server-tags:update", base.PROJECT_MEMBER_OR_ADMIN, "PUT",
         _TAGS + "/{tag}", "Add a tag to a server."),
        ("os_compute_api:os-server-tags:delete", base.PROJECT_MEMBER_OR_ADMIN, "DELETE",
         _TAGS + "/{tag}", "Remove a tag from a server."),
        ("os_compute_api:os-server-tags:delete_all", base.PROJECT_MEMBER_OR_ADMIN, "DELETE",
         _TAGS, "Remove every tag of a server."),
    )
]


def list_rules() -> list:
    return rules
