"""Check strings shared by every API resource's rules.

The strings name the roles explicitly (``role:admin or ...``) instead of leaning on
Keystone's implied roles, so a deployment that never set up role implication behaves the
same as one that did.
"""

from __future__ import annotations

from oslo_policy import policy

RULE_ADMIN_API = "rule:admin_api"
RULE_ANY = "@"

# Check strings a resource's rule may use directly.
ADMIN = "rule:context_is_admin"
PROJECT_MEMBER = "role:member and project_id:%(project_id)s"
PROJECT_READER = "(role:reader or role:member) and project_id:%(project_id)s"
PROJECT_MEMBER_OR_ADMIN = "rule:context_is_admin or rule:project_member_api"
PROJECT_READER_OR_ADMIN = "rule:context_is_admin or rule:project_reader_api"
ANY_AUTHENTICATED = RULE_ANY

rules = [
    policy.RuleDefault(
        "context_is_admin", "role:admin",
        description="Holds the admin role: may act on every project's resources."),
    policy.RuleDefault(
        "admin_api", "rule:context_is_admin",
        description="Operator-only APIs."),
    policy.RuleDefault(
        "project_member_api", PROJECT_MEMBER,
        description="A member of the project that owns the resource."),
    policy.RuleDefault(
        "project_reader_api", PROJECT_READER,
        description="A reader (or member) of the project that owns the resource."),
    policy.RuleDefault(
        "project_member_or_admin", PROJECT_MEMBER_OR_ADMIN,
        description="The owning project's member, or an admin."),
    policy.RuleDefault(
        "project_reader_or_admin", PROJECT_READER_OR_ADMIN,
        description="The owning project's reader, or an admin."),
]


def list_rules() -> list:
    return rules
