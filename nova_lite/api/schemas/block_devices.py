"""JSON schemas of a server's block device mappings on create: Nova's legacy
``block_device_mapping`` items and ``block_device_mapping_v2`` items, per microversion
(``tag`` in 2.32-2.36 and from 2.42, ``volume_type`` from 2.67)."""

from __future__ import annotations

import copy

# Nova's parameter_types.boolean: the strings oslo's bool_from_string takes.
BOOLEAN = {"type": ["boolean", "string"],
           "enum": [True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes",
                    "yes", "y", "t", False, "False", "FALSE", "false", "0", "OFF", "Off",
                    "off", "NO", "No", "no", "n", "f"]}
VOLUME_SIZE = {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1,
               "maximum": 2147483647}

_LEGACY_PROPERTIES = {
    "virtual_name": {"type": "string", "maxLength": 255},
    "volume_id": {"type": "string", "format": "uuid"},
    "snapshot_id": {"type": "string", "format": "uuid"},
    "volume_size": VOLUME_SIZE,
    "delete_on_termination": BOOLEAN,
    # Nova's pattern, with its odd range "_-r" kept so the same names pass.
    "device_name": {"type": "string", "minLength": 1, "maxLength": 255,
                    "pattern": "^[a-zA-Z0-9._-r/]*$"},
    "no_device": {},
    "connection_info": {"type": "string", "maxLength": 16777215},
}
_V2_PROPERTIES = dict(_LEGACY_PROPERTIES, **{
    "source_type": {"type": "string", "enum": ["volume", "image", "snapshot", "blank"]},
    "uuid": {"type": "string", "minLength": 1, "maxLength": 255,
             "pattern": "^[a-zA-Z0-9._-]*$"},
    "image_id": {"type": "string", "format": "uuid"},
    "destination_type": {"type": "string", "enum": ["local", "volume"]},
    "guest_format": {"type": "string", "maxLength": 255},
    "device_type": {"type": "string", "maxLength": 255},
    "disk_bus": {"type": "string", "maxLength": 255},
    "boot_index": {"type": ["integer", "string", "null"], "pattern": "^-?[0-9]+$"},
})
TAG = {"type": "string", "maxLength": 60, "pattern": "^[^,/]*$"}
VOLUME_TYPE = {"type": ["string", "null"], "minLength": 0, "maxLength": 255}

LEGACY = {"type": "array",
          "items": {"type": "object", "properties": _LEGACY_PROPERTIES,
                    "additionalProperties": False}}


def _v2(**extra: dict) -> dict:
    return {"type": "array",
            "items": {"type": "object", "properties": dict(copy.deepcopy(_V2_PROPERTIES),
                                                           **extra),
                      "additionalProperties": False}}


V2 = _v2()
V2_TAGGED = _v2(tag=TAG)
V2_VOLUME_TYPE = _v2(tag=TAG, volume_type=VOLUME_TYPE)

