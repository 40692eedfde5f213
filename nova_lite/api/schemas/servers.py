"""JSON schemas of the servers resource (create, update) and its list query parameters.

Each microversion that changed a body gets its own schema constant, built once at
import, so validation picks one by version and never rebuilds a schema per request.
"""

from __future__ import annotations

import copy

from nova_lite.api.microversion import Version
from nova_lite.api.schemas import block_devices

NAME = {"type": "string", "minLength": 1, "maxLength": 255, "format": "name"}
DESCRIPTION = {"type": ["string", "null"], "minLength": 0, "maxLength": 255,
               "format": "name_with_spaces"}
POSITIVE_INT = {"type": ["integer", "string"], "pattern": "^[0-9]*$", "minimum": 1,
                "minLength": 1}
HOSTNAME = {"type": "string", "minLength": 1, "maxLength": 255,
            "pattern": r"^[a-zA-Z0-9]([a-zA-Z0-9.\-_]*[a-zA-Z0-9])?$"}
METADATA = {
    "type": "object",
    "patternProperties": {
        "^[a-zA-Z0-9-_:. ]{1,255}$": {"type": "string", "maxLength": 255},
    },
    "additionalProperties": False,
}
NETWORK_LIST = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "fixed_ip": {"type": "string"},
            "port": {"type": ["string", "null"], "format": "uuid"},
            "uuid": {"type": "string"},
            "tag": {"type": "string", "maxLength": 60},
        },
        "additionalProperties": False,
    },
}
SECURITY_GROUPS = {
    "type": "array",
    "items": {"type": "object",
              "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255}},
              "additionalProperties": False},
}
TAGS = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 60,
                                   "pattern": "^[^,/]*$"},
        "maxItems": 50}

SCHEDULER_HINTS = {
    "type": "object",
    "properties": {"group": {"type": "string", "format": "uuid"}},
    "additionalProperties": True,
}

_CREATE_BASE = {
    "type": "object",
    "properties": {
        "server": {
            "type": "object",
            "properties": {
                "name": NAME,
                "imageRef": {"type": "string", "maxLength": 255},
                "flavorRef": {"type": ["string", "integer"], "minLength": 1},
                "adminPass": {"type": "string"},
                "metadata": METADATA,
                "networks": NETWORK_LIST,
                "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
                "accessIPv4": {"type": "string", "format": "ipv4"},
                "accessIPv6": {"type": "string", "format": "ipv6"},
                "personality": {"type": "array", "items": {"type": "object"}},
                "availability_zone": {"type": "string", "minLength": 1, "maxLength": 255},
                "block_device_mapping": block_devices.LEGACY,
                "block_device_mapping_v2": block_devices.V2,
                "config_drive": {"type": ["boolean", "string"]},
                "key_name": {"type": "string", "minLength": 1, "maxLength": 255},
                "min_count": POSITIVE_INT,
                "max_count": POSITIVE_INT,
                "return_reservation_id": {"type": ["boolean", "string"]},
                "security_groups": SECURITY_GROUPS,
                "user_data": {"type": "string", "format": "base64", "maxLength": 65535},
            },
            "required": ["name", "flavorRef"],
            "additionalProperties": False,
        },
        "os:scheduler_hints": SCHEDULER_HINTS,
        "OS-SCH-HNT:scheduler_hints": SCHEDULER_HINTS,
    },
    "required": ["server"],
    "additionalProperties": False,
}


def _derive(base: dict, add: dict | None = None, drop: tuple = (), required: tuple = ()
            ) -> dict:
    schema = copy.deepcopy(base)
    server = schema["properties"]["server"]
    for k in drop:
        server["properties"].pop(k, None)
    server["properties"].update(copy.deepcopy(add or {}))
    server["required"] = server["required"] + [r for r in required
                                               if r not in server["required"]]
    return schema


CREATE_V219 = _derive(_CREATE_BASE, {"description": DESCRIPTION})
CREATE_V232 = _derive(CREATE_V219, {"block_device_mapping_v2": block_devices.V2_TAGGED})
CREATE_V237 = _derive(CREATE_V219, {
    "networks": {"oneOf": [NETWORK_LIST, {"type": "string", "enum": ["none", "auto"]}]},
}, required=("networks",))
CREATE_V242 = _derive(CREATE_V237, {"block_device_mapping_v2": block_devices.V2_TAGGED})
CREATE_V252 = _derive(CREATE_V242, {"tags": TAGS})
CREATE_V257 = _derive(CREATE_V252, drop=("personality",))
CREATE_V263 = _derive(CREATE_V257, {
    "trusted_image_certificates": {"type": ["array", "null"], "minItems": 1,
                                   "maxItems": 50, "uniqueItems": True,
                                   "items": {"type": "string", "minLength": 1}},
})
CREATE_V267 = _derive(CREATE_V263, {
    "block_device_mapping_v2": block_devices.V2_VOLUME_TYPE})
CREATE_V274 = _derive(CREATE_V267, {
    "host": HOSTNAME, "hypervisor_hostname": HOSTNAME,
})
CREATE_V290 = _derive(CREATE_V274, {"hostname": HOSTNAME})

_CREATE_BY_VERSION: list[tuple[Version, dict]] = [
    ((2, 90), CREATE_V290), ((2, 74), CREATE_V274), ((2, 67), CREATE_V267),
    ((2, 63), CREATE_V263), ((2, 57), CREATE_V257), ((2, 52), CREATE_V252),
    ((2, 42), CREATE_V242), ((2, 37), CREATE_V237), ((2, 32), CREATE_V232),
    ((2, 19), CREATE_V219), ((2, 1), _CREATE_BASE),
]


def create_schema(ver: Version) -> dict:
    for since, schema in _CREATE_BY_VERSION:
        if ver >= since:
            return schema
    return _CREATE_BASE


_UPDATE_BASE = {
    "type": "object",
    "properties": {
        "server": {
            "type": "object",
            "properties": {
                "name": NAME,
                "accessIPv4": {"type": "string", "format": "ipv4"},
                "accessIPv6": {"type": "string", "format": "ipv6"},
                "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
            },
            "additionalProperties": False,
        },
    },
    "required": ["server"],
    "additionalProperties": False,
}
UPDATE_V219 = copy.deepcopy(_UPDATE_BASE)
UPDATE_V219["properties"]["server"]["properties"]["description"] = DESCRIPTION
UPDATE_V290 = copy.deepcopy(UPDATE_V219)
UPDATE_V290["properties"]["server"]["properties"]["hostname"] = HOSTNAME


def update_schema(ver: Version) -> dict:
    if ver >= (2, 90):
        return UPDATE_V290
    if ver >= (2, 19):
        return UPDATE_V219
    return _UPDATE_BASE


# Query parameters GET /servers[/detail] knows; from 2.75 anything else is a 400.
LIST_QUERY_PARAMS = frozenset((
    "user_id", "project_id", "tenant_id", "launch_index", "image_ref", "image",
    "kernel_id", "ramdisk_id", "hostname", "key_name", "power_state", "vm_state",
    "task_state", "host", "node", "flavor", "reservation_id", "launched_at",
    "terminated_at", "availability_zone", "name", "display_name", "description",
    "display_description", "locked_by", "uuid", "root_device_name", "config_drive",
    "access_ip_v4", "access_ip_v6", "auto_disk_config", "progress", "sort_key", "sort_dir",
    "all_tenants", "soft_deleted", "deleted", "status", "changes-since", "changes-before",
    "ip", "ip6", "created_at", "tag", "tags", "tags-any", "not-tags", "not-tags-any",
    "limit", "marker", "locked", "pinned_availability_zone",
))

# Filters any user may pass; the rest are silently dropped for non-admins (as Nova does).
USER_FILTERS = frozenset((
    "reservation_id", "name", "status", "image", "flavor", "ip", "changes-since",
    "changes-before", "all_tenants", "limit", "marker", "sort_key", "sort_dir",
    "tags", "tags-any", "not-tags", "not-tags-any", "ip6", "description", "locked",
))
USER_FILTERS_V283 = USER_FILTERS | frozenset((
    "availability_zone", "config_drive", "key_name", "created_at", "launched_at",
    "terminated_at", "power_state", "task_state", "vm_state", "progress", "user_id",
))

# Sort keys Nova accepts but ignores (they sorted on internal columns), and all it accepts.
SORT_KEYS_IGNORED = (
    "architecture", "cell_name", "cleaned", "default_ephemeral_device",
    "default_swap_device", "deleted", "deleted_at", "disable_terminate", "ephemeral_gb",
    "ephemeral_key_uuid", "id", "key_data", "launched_on", "locked", "memory_mb", "os_type",
    "reservation_id", "root_gb", "shutdown_terminate", "user_data", "vcpus", "vm_mode",
)
SORT_KEYS = frozenset((
    "access_ip_v4", "access_ip_v6", "auto_disk_config", "availability_zone", "config_drive",
    "created_at", "display_description", "display_name", "host", "hostname", "image_ref",
    "instance_type_id", "kernel_id", "key_name", "launch_index", "launched_at", "locked_by",
    "node", "power_state", "progress", "project_id", "ramdisk_id", "root_device_name",
    "task_state", "terminated_at", "updated_at", "user_id", "uuid", "vm_state",
) + SORT_KEYS_IGNORED)
