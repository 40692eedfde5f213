"""JSON schemas of the rebuild action, one per microversion that changed it."""

from __future__ import annotations

import copy

from nova_lite.api.microversion import Version
from nova_lite.api.schemas import servers as server_schemas

_BASE = {
    "type": "object",
    "properties": {
        "rebuild": {
            "type": "object",
            "properties": {
                "imageRef": {"type": "string", "minLength": 1, "maxLength": 255},
                "name": server_schemas.NAME,
                "adminPass": {"type": "string"},
                "metadata": server_schemas.METADATA,
                "preserve_ephemeral": {"type": ["boolean", "string"]},
                "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
                "accessIPv4": {"type": "string", "format": "ipv4"},
                "accessIPv6": {"type": "string", "format": "ipv6"},
                "personality": {"type": "array", "items": {"type": "object"}},
            },
            "required": ["imageRef"],
            "additionalProperties": False,
        },
    },
    "required": ["rebuild"],
    "additionalProperties": False,
}


def _derive(base: dict, add: dict | None = None, drop: tuple = ()) -> dict:
    schema = copy.deepcopy(base)
    props = schema["properties"]["rebuild"]["properties"]
    for key in drop:
        props.pop(key, None)
    props.update(copy.deepcopy(add or {}))
    return schema


V219 = _derive(_BASE, {"description": server_schemas.DESCRIPTION})
V254 = _derive(V219, {"key_name": {"type": ["string", "null"], "minLength": 1,
                                   "maxLength": 255}})
V257 = _derive(V254, {"user_data": {"type": ["string", "null"], "format": "base64",
                                    "maxLength": 65535}}, drop=("personality",))
V263 = _derive(V257, {"trusted_image_certificates": {
    "type": ["array", "null"], "minItems": 1, "maxItems": 50, "uniqueItems": True,
    "items": {"type": "string", "minLength": 1}}})
V290 = _derive(V263, {"hostname": server_schemas.HOSTNAME})
# 2.94: the hostname may be a fully qualified domain name
V294 = _derive(V290, {"hostname": {
    "type": "string", "minLength": 1, "maxLength": 255,
    "pattern": r"^[a-zA-Z0-9]([a-zA-Z0-9\-_]*[a-zA-Z0-9])?"
               r"(\.[a-zA-Z0-9]([a-zA-Z0-9\-_]*[a-zA-Z0-9])?)*\.?$"}})

_BY_VERSION: list[tuple[Version, dict]] = [
    ((2, 94), V294), ((2, 90), V290), ((2, 63), V263), ((2, 57), V257), ((2, 54), V254),
    ((2, 19), V219),
]


def rebuild_schema(ver: Version) -> dict:
    for since, schema in _BY_VERSION:
        if ver >= since:
            return schema
    return _BASE
