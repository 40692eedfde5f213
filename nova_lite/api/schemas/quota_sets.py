"""JSON schemas and per-microversion resource lists of os-quota-sets and
os-quota-class-sets."""

from __future__ import annotations

from nova_lite.api.microversion import Version

LIMIT = {"type": ["integer", "string"], "pattern": "^-?[0-9]+$", "minimum": -1,
         "maximum": 0x7FFFFFFF}
BOOLEAN = {"type": ["boolean", "string"],
           "enum": [True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes",
                    "yes", False, "False", "FALSE", "false", "0", "OFF", "Off", "off",
                    "NO", "No", "no"]}

ALL = ("instances", "cores", "ram", "metadata_items", "injected_files",
       "injected_file_content_bytes", "injected_file_path_bytes", "key_pairs",
       "server_groups", "server_group_members", "fixed_ips", "floating_ips",
       "security_groups", "security_group_rules")
NETWORK = ("fixed_ips", "floating_ips", "security_groups", "security_group_rules")
PERSONALITY = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")
SERVER_GROUPS = ("server_groups", "server_group_members")


def quota_set_resources(ver: Version) -> tuple[str, ...]:
    """What a quota set shows: network quotas went at 2.36, personality files at 2.57."""
    gone = (NETWORK if ver >= (2, 36) else ()) + (PERSONALITY if ver >= (2, 57) else ())
    return tuple(r for r in ALL if r not in gone)


def quota_class_resources(ver: Version) -> tuple[str, ...]:
    """Quota classes lacked the server group quotas until 2.50, which dropped network
    quotas; personality files went at 2.57."""
    if ver < (2, 50):
        return tuple(r for r in ALL if r not in SERVER_GROUPS)
    gone = NETWORK + (PERSONALITY if ver >= (2, 57) else ())
    return tuple(r for r in ALL if r not in gone)


def _update(key: str, resources: tuple[str, ...], extra: dict) -> dict:
    props = {r: LIMIT for r in resources}
    props.update(extra)
    return {"type": "object",
            "properties": {key: {"type": "object", "properties": props,
                                 "additionalProperties": False}},
            "required": [key], "additionalProperties": False}


_QUOTA_SET_UPDATES: dict[Version, dict] = {}
_CLASS_UPDATES: dict[Version, dict] = {}


def quota_set_update(ver: Version) -> dict:
    band = (2, 57) if ver >= (2, 57) else (2, 36) if ver >= (2, 36) else (2, 1)
    if band not in _QUOTA_SET_UPDATES:
        extra = {"force": BOOLEAN}
        if band < (2, 36):
            extra["networks"] = LIMIT  # accepted, then refused: nova-network is gone
        _QUOTA_SET_UPDATES[band] = _update("quota_set", quota_set_resources(band), extra)
    return _QUOTA_SET_UPDATES[band]


def quota_class_update(ver: Version) -> dict:
    band = (2, 57) if ver >= (2, 57) else (2, 50) if ver >= (2, 50) else (2, 1)
    if band not in _CLASS_UPDATES:
        extra = {"networks": LIMIT} if band < (2, 50) else {}
        _CLASS_UPDATES[band] = _update("quota_class_set", quota_class_resources(band), extra)
    return _CLASS_UPDATES[band]


QUERY_PARAMS = frozenset(("user_id",))
