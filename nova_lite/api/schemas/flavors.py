"""JSON schema of POST /flavors (os-flavor-manage), per microversion."""

from __future__ import annotations

import copy

from nova_lite.api.microversion import Version

_DB_INT_MAX = 2 ** 31 - 1
_POSITIVE = {"type": ["integer", "string"], "pattern": "^[0-9]*$", "minimum": 1,
             "maximum": _DB_INT_MAX, "minLength": 1}
_NON_NEGATIVE = {"type": ["integer", "string"], "pattern": "^[0-9]*$", "minimum": 0,
                 "maximum": _DB_INT_MAX, "minLength": 1}

CREATE = {
    "type": "object",
    "properties": {
        "flavor": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 255,
                         "format": "name"},
                "id": {"type": ["string", "number", "null"], "minLength": 1,
                       "maxLength": 255, "pattern": r"^(?! )[a-zA-Z0-9. _-]+(?<! )$"},
                "ram": _POSITIVE,
                "vcpus": _POSITIVE,
                "disk": _NON_NEGATIVE,
                "OS-FLV-EXT-DATA:ephemeral": _NON_NEGATIVE,
                "swap": _NON_NEGATIVE,
                "rxtx_factor": {"type": ["number", "string"],
                                "pattern": r"^[0-9]+(\.[0-9]+)?$",
                                "minimum": 0, "exclusiveMinimum": True,
                                "maximum": 3.40282e38},
                "os-flavor-access:is_public": {"type": ["boolean", "string"]},
            },
            "required": ["name", "ram", "vcpus", "disk"],
            "additionalProperties": False,
        },
    },
    "required": ["flavor"],
    "additionalProperties": False,
}

CREATE_V255 = copy.deepcopy(CREATE)
CREATE_V255["properties"]["flavor"]["properties"]["description"] = {
    "type": ["string", "null"], "minLength": 0, "maxLength": 65535,
    "format": "name_with_spaces",
}


def create_schema(ver: Version) -> dict:
    return CREATE_V255 if ver >= (2, 55) else CREATE
