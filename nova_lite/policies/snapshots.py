"""Rules for createImage and createBackup (the server's owner)."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name="os_compute_api:servers:create_image", check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description="Create an image (snapshot) of a server.",
        operations=[{"method": "POST",
                     "path": "/servers/{server_id}/action (createImage)"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:servers:create_image:allow_volume_backed",
        check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description="Create an image of a volume-backed server (volume snapshots).",
        operations=[{"method": "POST",
                     "path": "/servers/{server_id}/action (createImage)"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-create-backup", check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description="Create a rotated backup image of a server.",
        operations=[{"method": "POST",
                     "path": "/servers/{server_id}/action (createBackup)"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
