"""JSON schemas of the /images/{id}/metadata proxy (Nova's image metadata API)."""

from __future__ import annotations

import copy

_METADATA = {
    "type": "object",
    "patternProperties": {
        "^[a-zA-Z0-9-_:. ]{1,255}$": {"type": "string", "maxLength": 255},
    },
    "additionalProperties": False,
}

CREATE = {
    "type": "object",
    "properties": {"metadata": _METADATA},
    "required": ["metadata"],
    "additionalProperties": False,
}

UPDATE_ALL = copy.deepcopy(CREATE)

_ONE = copy.deepcopy(_METADATA)
_ONE.update({"minProperties": 1, "maxProperties": 1})
UPDATE = {
    "type": "object",
    "properties": {"meta": _ONE},
    "required": ["meta"],
    "additionalProperties": False,
}
