"""Body of the changePassword action."""

from __future__ import annotations

CHANGE_PASSWORD = {
    "type": "object",
    "properties": {"changePassword": {
        "type": "object",
        "properties": {"adminPass": {"type": "string"}},
        "required": ["adminPass"],
        "additionalProperties": False,
    }},
    "required": ["changePassword"],
    "additionalProperties": False,
}
