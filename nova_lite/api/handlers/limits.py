"""GET /limits: the caller's project's absolute limits and what it uses (no rate limits).

Admins may ask for another project with ``tenant_id``. Keys follow the microversion:
network ones go at 2.36, maxImageMeta at 2.39, personality ones at 2.57.
"""

from __future__ import annotations

from nova_lite import policy
from nova_lite.api import validation, wsgi

RULE = "os_compute_api:limits"
OTHER_PROJECT_RULE = "os_compute_api:limits:other_project"

_MAX = {"ram": ("maxTotalRAMSize",), "instances": ("maxTotalInstances",),
        "cores": ("maxTotalCores",), "key_pairs": ("maxTotalKeypairs",),
        "floating_ips": ("maxTotalFloatingIps",),
        "metadata_items": ("maxServerMeta", "maxImageMeta"),
        "injected_files": ("maxPersonality",),
        "injected_file_content_bytes": ("maxPersonalitySize",),
        "security_groups": ("maxSecurityGroups",),
        "security_group_rules": ("maxSecurityGroupRules",),
        "server_groups": ("maxServerGroups",),
        "server_group_members": ("maxServerGroupMembers",)}
_USED = {"totalRAMUsed": "ram", "totalCoresUsed": "cores",
         "totalInstancesUsed": "instances", "totalFloatingIpsUsed": "floating_ips",
         "totalSecurityGroupsUsed": "security_groups",
         "totalServerGroupsUsed": "server_groups"}
_NETWORK = {"floating_ips", "security_groups", "security_group_rules", "fixed_ips"}
_PERSONALITY = {"injected_files", "injected_file_content_bytes"}
_QUERY_PARAMS = frozenset(("tenant_id",))


def index(req: wsgi.ApiRequest) -> wsgi.Reply:
    ctx = req.ctx
    policy.authorize(ctx, RULE)
    if req.ver >= (2, 75):
        validation.reject_unknown_query_params(req.params, _QUERY_PARAMS)
    project_id = req.params.get("tenant_id") or ctx.project_id
    if project_id != ctx.project_id:
        policy.authorize(ctx, OTHER_PROJECT_RULE, {"project_id": project_id})
    quotas = req.conductor.quota_get(ctx, project_id, usages=True)
    hidden = set()
    if req.ver >= (2, 36):
        hidden |= _NETWORK
    if req.ver >= (2, 57):
        hidden |= _PERSONALITY
    absolute = {}
    for resource, names in _MAX.items():
        if resource in quotas and resource not in hidden:
            for name in names:
                if name == "maxImageMeta" and req.ver >= (2, 39):
                    continue
                absolute[name] = quotas[resource]["limit"]
    for name, resource in _USED.items():
        if resource in quotas and resource not in hidden:
            absolute[name] = quotas[resource]["in_use"]
    return wsgi.Reply(200, {"limits": {"rate": [], "absolute": absolute}})
