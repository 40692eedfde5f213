"""Rules for the /images/{id}/metadata proxy: the image service decides who may change
an image (the caller's own token reaches it), so any authenticated user may ask."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

_PATH = "/images/{image_id}/metadata"
_ACTIONS = (
    ("index", "List an image's metadata.", "GET", _PATH),
    ("show", "Show one image metadata item.", "GET", _PATH + "/{key}"),
    ("create", "Add or change image metadata items.", "POST", _PATH),
    ("update_all", "Replace all of an image's metadata.", "PUT", _PATH),
    ("update", "Create or change one image metadata item.", "PUT", _PATH + "/{key}"),
    ("delete", "Delete one image metadata item.", "DELETE", _PATH + "/{key}"),
)

rules = [
    policy.DocumentedRuleDefault(
        name=f"os_compute_api:image-metadata:{action}", check_str=base.ANY_AUTHENTICATED,
        description=description, operations=[{"method": method, "path": path}],
        scope_types=["project"])
    for action, description, method, path in _ACTIONS
]


def list_rules() -> list:
    return rules
