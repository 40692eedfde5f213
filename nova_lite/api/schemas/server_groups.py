"""JSON schemas of POST /os-server-groups, per microversion."""

from __future__ import annotations

import copy

from nova_lite.api.microversion import Version

_NAME = {"type": "string", "minLength": 1, "maxLength": 255, "format": "name"}
_HARD = ["anti-affinity", "affinity"]
_ALL = _HARD + ["soft-anti-affinity", "soft-affinity"]

CREATE = {
    "type": "object",
    "properties": {
        "server_group": {
            "type": "object",
            "properties": {
                "name": _NAME,
                "policies": {"type": "array", "minItems": 1, "maxItems": 1,
                             "uniqueItems": True,
                             "items": {"type": "string", "enum": _HARD}},
            },
            "required": ["name", "policies"],
            "additionalProperties": False,
        },
    },
    "required": ["server_group"],
    "additionalProperties": False,
}

CREATE_V215 = copy.deepcopy(CREATE)
CREATE_V215["properties"]["server_group"]["properties"]["policies"]["items"]["enum"] = _ALL

CREATE_V264 = copy.deepcopy(CREATE)
CREATE_V264["properties"]["server_group"]["properties"] = {
    "name": _NAME,
    "policy": {"type": "string", "enum": _ALL},
    "rules": {
        "type": "object",
        "properties": {
            "max_server_per_host": {"type": ["integer", "string"], "pattern": "^[0-9]+$",
                                    "minimum": 1},
        },
        "additionalProperties": False,
    },
}
CREATE_V264["properties"]["server_group"]["required"] = ["name", "policy"]


def create_schema(ver: Version) -> dict:
    if ver >= (2, 64):
        return CREATE_V264
    return CREATE_V215 if ver >= (2, 15) else CREATE
