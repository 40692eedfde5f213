"""Bodies of the rescue and unrescue actions."""

from __future__ import annotations

RESCUE = {
    "type": "object",
    "properties": {"rescue": {
        "type": ["object", "null"],
        "properties": {
            "adminPass": {"type": "string"},
            "rescue_image_ref": {"type": "string", "format": "uuid"},
        },
        "additionalProperties": False,
    }},
    "required": ["rescue"],
    "additionalProperties": False,
}

UNRESCUE = {"type": "object", "properties": {"unrescue": {"type": "null"}},
            "required": ["unrescue"], "additionalProperties": False}
