"""JSON schemas of flavor extra specs, flavor access actions and PUT /flavors/{id}."""

from __future__ import annotations

import copy

KEY_PATTERN = "^[a-zA-Z0-9-_:. /]{1,255}$"
_SPECS = {
    "type": "object",
    "patternProperties": {
        KEY_PATTERN: {"type": ["string", "number", "boolean"], "maxLength": 255},
    },
    "additionalProperties": False,
}

EXTRA_SPECS_CREATE = {
    "type": "object",
    "properties": {"extra_specs": _SPECS},
    "required": ["extra_specs"],
    "additionalProperties": False,
}

EXTRA_SPEC_UPDATE = copy.deepcopy(_SPECS)
EXTRA_SPEC_UPDATE.update({"minProperties": 1, "maxProperties": 1})

_TENANT = {"type": "object",
           "properties": {"tenant": {"type": "string", "minLength": 1, "maxLength": 255,
                                     "pattern": "^[a-zA-Z0-9-_]*$"}},
           "required": ["tenant"], "additionalProperties": False}
ADD_TENANT_ACCESS = {"type": "object", "properties": {"addTenantAccess": _TENANT},
                     "required": ["addTenantAccess"], "additionalProperties": False}
REMOVE_TENANT_ACCESS = {"type": "object", "properties": {"removeTenantAccess": _TENANT},
                        "required": ["removeTenantAccess"], "additionalProperties": False}

FLAVOR_UPDATE = {
    "type": "object",
    "properties": {
        "flavor": {
            "type": "object",
            "properties": {
                "description": {"type": ["string", "null"], "minLength": 0,
                                "maxLength": 65535, "format": "name_with_spaces"},
            },
            "required": ["description"],
            "additionalProperties": False,
        },
    },
    "required": ["flavor"],
    "additionalProperties": False,
}
