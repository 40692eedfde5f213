"""JSON schemas of PUT /os-services: the pre-2.53 actions (host + binary in the body)
and the 2.53 update of one service named by uuid."""

from __future__ import annotations

from nova_lite.api.schemas.quota_sets import BOOLEAN

_HOST = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[a-zA-Z0-9-._]*$"}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 255}

UPDATE_21 = {
    "type": "object",
    "properties": {"host": _HOST, "binary": _TEXT, "disabled_reason": _TEXT},
    "required": ["host", "binary"],
    "additionalProperties": False,
}

UPDATE_211 = {
    "type": "object",
    "properties": dict(UPDATE_21["properties"], forced_down=BOOLEAN),
    "required": ["host", "binary"],
    "additionalProperties": False,
}

# Nothing required: the uuid in the path names the service; a body with neither
# status nor forced_down is refused in code, as is disabled_reason with "enabled".
UPDATE_253 = {
    "type": "object",
    "properties": {"status": {"type": "string", "enum": ["enabled", "disabled"]},
                   "disabled_reason": _TEXT, "forced_down": BOOLEAN},
    "additionalProperties": False,
}
