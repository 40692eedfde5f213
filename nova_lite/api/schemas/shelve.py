"""Bodies of the shelve, shelveOffload and unshelve actions (Nova's, per microversion)."""

from __future__ import annotations

from nova_lite.api.schemas.servers import NAME

SHELVE = {"type": "object", "properties": {"shelve": {"type": "null"}},
          "required": ["shelve"], "additionalProperties": False}

SHELVE_OFFLOAD = {"type": "object", "properties": {"shelveOffload": {"type": "null"}},
                  "required": ["shelveOffload"], "additionalProperties": False}

# Up to 2.76 the value is not looked at.
UNSHELVE = {"type": "object", "properties": {"unshelve": {}}, "required": ["unshelve"],
            "additionalProperties": False}

# 2.77: null, or an availability zone ({} is refused).
UNSHELVE_V277 = {
    "type": "object",
    "properties": {"unshelve": {
        "type": ["object", "null"],
        "properties": {"availability_zone": NAME},
        "required": ["availability_zone"],
        "additionalProperties": False,
    }},
    "required": ["unshelve"],
    "additionalProperties": False,
}

# 2.91: also a destination host, and availability_zone null to unpin the zone.
UNSHELVE_V291 = {
    "type": "object",
    "properties": {"unshelve": {
        "type": ["object", "null"],
        "properties": {
            "availability_zone": {"type": ["string", "null"]},
            "host": {"type": "string", "minLength": 1, "maxLength": 255},
        },
        "additionalProperties": False,
    }},
    "required": ["unshelve"],
    "additionalProperties": False,
}
