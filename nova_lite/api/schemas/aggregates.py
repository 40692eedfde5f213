"""JSON schemas of /os-aggregates and its actions."""

from __future__ import annotations

_NAME = {"type": "string", "minLength": 1, "maxLength": 255, "format": "name"}
_ZONE = {"type": ["string", "null"], "minLength": 1, "maxLength": 255,
         "pattern": "^[^:]*$"}
_HOST = {"type": "string", "minLength": 1, "maxLength": 255}

CREATE = {
    "type": "object",
    "properties": {
        "aggregate": {
            "type": "object",
            "properties": {"name": _NAME, "availability_zone": _ZONE},
            "required": ["name"],
            "additionalProperties": False,
        },
    },
    "required": ["aggregate"],
    "additionalProperties": False,
}

UPDATE = {
    "type": "object",
    "properties": {
        "aggregate": {
            "type": "object",
            "properties": {"name": _NAME, "availability_zone": _ZONE},
            "minProperties": 1,
            "additionalProperties": False,
        },
    },
    "required": ["aggregate"],
    "additionalProperties": False,
}


def _host_action(name: str) -> dict:
    return {"type": "object",
            "properties": {name: {"type": "object", "properties": {"host": _HOST},
                                  "required": ["host"], "additionalProperties": False}},
            "required": [name], "additionalProperties": False}


ADD_HOST = _host_action("add_host")
REMOVE_HOST = _host_action("remove_host")

SET_METADATA = {
    "type": "object",
    "properties": {
        "set_metadata": {
            "type": "object",
            "properties": {
                "metadata": {
                    "type": "object",
                    "patternProperties": {
                        "^[a-zA-Z0-9-_:. ]{1,255}$": {"type": ["string", "null"],
                                                      "maxLength": 255},
                    },
                    "additionalProperties": False,
                },
            },
            "required": ["metadata"],
            "additionalProperties": False,
        },
    },
    "required": ["set_metadata"],
    "additionalProperties": False,
}
