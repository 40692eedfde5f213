"""Query schemas of GET /os-migrations and the body schema of the migrate action.

A query is checked as {name: [values]} (every parameter may repeat in a URL): filters
may repeat, paging and time parameters may not. Before 2.59 unknown parameters are
ignored; from 2.59 they are refused, as in Nova.
"""

from __future__ import annotations

import copy

_MULTI = {"type": "array", "items": {"type": "string"}}


def _single(schema: dict) -> dict:
    return {"type": "array", "items": schema, "maxItems": 1}


LIST_V21: dict = {
    "type": "object",
    "properties": {name: _MULTI for name in ("hidden", "host", "instance_uuid",
                                             "source_compute", "status",
                                             "migration_type")},
    "additionalProperties": True,
}

LIST_V259 = copy.deepcopy(LIST_V21)
LIST_V259["properties"].update({
    "limit": _single({"type": "string", "pattern": "^[0-9]+$"}),
    "marker": _single({"type": "string"}),
    "changes-since": _single({"type": "string"}),
})
LIST_V259["additionalProperties"] = False

LIST_V266 = copy.deepcopy(LIST_V259)
LIST_V266["properties"]["changes-before"] = _single({"type": "string"})

LIST_V280 = copy.deepcopy(LIST_V266)
LIST_V280["properties"].update({"user_id": _single({"type": "string"}),
                                "project_id": _single({"type": "string"})})

# The migrate action: a bare null before 2.56; then null or {"host": name or null}.
MIGRATE_V21 = {
    "type": "object",
    "properties": {"migrate": {"type": "null"}},
    "required": ["migrate"],
    "additionalProperties": False,
}
MIGRATE_V256 = {
    "type": "object",
    "properties": {
        "migrate": {
            "type": ["object", "null"],
            "properties": {
                "host": {"type": ["string", "null"], "minLength": 1, "maxLength": 255,
                         "pattern": "^[a-zA-Z0-9-._]*$"},
            },
            "additionalProperties": False,
        },
    },
    "required": ["migrate"],
    "additionalProperties": False,
}
