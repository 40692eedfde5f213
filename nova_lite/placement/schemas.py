"""JSON schemas of the Placement API's request bodies, and their validation (400 with
Placement's wording: "JSON does not validate: ...")."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema

from nova_lite.placement.wsgi import bad_request

RC_PATTERN = "^[A-Z0-9_]+$"
UUID = {"type": "string", "format": "uuid"}
_GENERATION = {"type": "integer"}
_MAX = 2147483647

INVENTORY_FIELDS = {
    "total": {"type": "integer", "minimum": 1, "maximum": _MAX},
    "reserved": {"type": "integer", "minimum": 0, "maximum": _MAX},
    "min_unit": {"type": "integer", "minimum": 1, "maximum": _MAX},
    "max_unit": {"type": "integer", "minimum": 1, "maximum": _MAX},
    "step_size": {"type": "integer", "minimum": 1, "maximum": _MAX},
    "allocation_ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": True,
                         "maximum": 3.40282e+38},
}
INVENTORY_ONE = {
    "type": "object",
    "properties": {"resource_provider_generation": _GENERATION, **INVENTORY_FIELDS},
    "required": ["total", "resource_provider_generation"],
    "additionalProperties": False,
}
_INVENTORY_IN_SET = {"type": "object", "properties": INVENTORY_FIELDS,
                     "required": ["total"], "additionalProperties": False}
INVENTORIES = {
    "type": "object",
    "properties": {
        "resource_provider_generation": _GENERATION,
        "inventories": {"type": "object",
                        "patternProperties": {RC_PATTERN: _INVENTORY_IN_SET},
                        "additionalProperties": False},
    },
    "required": ["resource_provider_generation", "inventories"],
    "additionalProperties": False,
}
TRAITS = {
    "type": "object",
    "properties": {
        "traits": {"type": "array", "items": {"type": "string", "pattern": RC_PATTERN},
                   "uniqueItems": True},
        "resource_provider_generation": _GENERATION,
    },
    "required": ["traits", "resource_provider_generation"],
    "additionalProperties": False,
}
AGGREGATES_LIST = {"type": "array", "items": UUID, "uniqueItems": True}
AGGREGATES = {
    "type": "object",
    "properties": {"aggregates": AGGREGATES_LIST,
                   "resource_provider_generation": _GENERATION},
    "required": ["aggregates", "resource_provider_generation"],
    "additionalProperties": False,
}
_RESOURCES = {"type": "object", "minProperties": 1,
              "patternProperties": {RC_PATTERN: {"type": "integer", "minimum": 1,
                                                 "maximum": _MAX}},
              "additionalProperties": False}
# 1.0 - 1.11: a list of {"resource_provider": {"uuid"}, "resources"}.
ALLOCATIONS_LIST = {
    "type": "object",
    "properties": {"allocations": {"type": "array", "minItems": 1, "items": {
        "type": "object",
        "properties": {"resource_provider": {
            "type": "object", "properties": {"uuid": UUID}, "required": ["uuid"],
            "additionalProperties": False},
            "resources": _RESOURCES},
        "required": ["resource_provider", "resources"], "additionalProperties": False}},
        "project_id": {"type": "string", "minLength": 1, "maxLength": 255},
        "user_id": {"type": "string", "minLength": 1, "maxLength": 255}},
    "required": ["allocations"],
    "additionalProperties": False,
}
# 1.12 on: {rp uuid: {"resources"}} with project_id and user_id.
ALLOCATIONS_DICT = {
    "type": "object",
    "properties": {
        "allocations": {"type": "object", "patternProperties": {
            "^[0-9a-fA-F-]{36}$": {"type": "object",
                                   "properties": {"resources": _RESOURCES,
                                                  "generation": _GENERATION},
                                   "required": ["resources"],
                                   "additionalProperties": False}},
            "additionalProperties": False},
        "project_id": {"type": "string", "minLength": 1, "maxLength": 255},
        "user_id": {"type": "string", "minLength": 1, "maxLength": 255},
    },
    "required": ["allocations", "project_id", "user_id"],
    "additionalProperties": False,
}


def _with_consumer(schema: dict, consumer_type: bool) -> dict:
    out = copy.deepcopy(schema)
    out["properties"]["consumer_generation"] = {"type": ["integer", "null"]}
    out["required"].append("consumer_generation")
    if consumer_type:
        out["properties"]["consumer_type"] = {"type": "string", "pattern": RC_PATTERN,
                                              "maxLength": 255}
        out["required"].append("consumer_type")
    return out


ALLOCATIONS_128 = _with_consumer(ALLOCATIONS_DICT, False)  # consumer_generation
ALLOCATIONS_138 = _with_consumer(ALLOCATIONS_DICT, True)  # and consumer_type


def allocations_schema(ver: Any) -> dict:
    if ver < (1, 12):
        return ALLOCATIONS_LIST
    if ver < (1, 28):
        return ALLOCATIONS_DICT
    return ALLOCATIONS_128 if ver < (1, 38) else ALLOCATIONS_138


_checker = jsonschema.FormatChecker()
_cache: dict[int, Any] = {}


def validate(schema: dict, body: Any) -> Any:
    v = _cache.get(id(schema))
    if v is None:
        v = jsonschema.Draft4Validator(schema, format_checker=_checker)
        _cache[id(schema)] = v
    err = jsonschema.exceptions.best_match(v.iter_errors(body))
    if err is not None:
        raise bad_request(f"JSON does not validate: {err.message}")
    return body
