"""Bodies of the createImage and createBackup actions."""

from __future__ import annotations

from nova_lite.api.schemas.servers import NAME

# Image properties given by the caller (Nova's metadata rule for createImage).
METADATA = {"type": "object",
            "patternProperties": {"^[a-zA-Z0-9-_:. ]{1,255}$": {"type": "string",
                                                                "maxLength": 255}},
            "additionalProperties": False}

CREATE_IMAGE = {
    "type": "object",
    "properties": {"createImage": {
        "type": "object",
        "properties": {"name": NAME, "metadata": METADATA},
        "required": ["name"],
        "additionalProperties": False,
    }},
    "required": ["createImage"],
    "additionalProperties": False,
}

CREATE_BACKUP = {
    "type": "object",
    "properties": {"createBackup": {
        "type": "object",
        "properties": {
            "name": NAME,
            "backup_type": {"type": "string"},
            "rotation": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 0},
            "metadata": {"type": "object"},
        },
        "required": ["name", "backup_type", "rotation"],
        "additionalProperties": False,
    }},
    "required": ["createBackup"],
    "additionalProperties": False,
}
