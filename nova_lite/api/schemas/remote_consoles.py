"""JSON schemas of POST /servers/{id}/remote-consoles (2.6, 2.8, 2.99) and of the
legacy os-getVNCConsole action (up to 2.5)."""

from __future__ import annotations

import copy

from nova_lite.api.microversion import Version

_TYPES_V26 = ["novnc", "xvpvnc", "rdp-html5", "spice-html5", "serial"]

CREATE_V26 = {
    "type": "object",
    "properties": {
        "remote_console": {
            "type": "object",
            "properties": {
                "protocol": {"type": "string", "enum": ["vnc", "spice", "rdp", "serial"]},
                "type": {"type": "string", "enum": _TYPES_V26},
            },
            "required": ["protocol", "type"],
            "additionalProperties": False,
        },
    },
    "required": ["remote_console"],
    "additionalProperties": False,
}
CREATE_V28 = copy.deepcopy(CREATE_V26)
CREATE_V28["properties"]["remote_console"]["properties"]["protocol"]["enum"].append("mks")
CREATE_V28["properties"]["remote_console"]["properties"]["type"]["enum"].append("webmks")
CREATE_V299 = copy.deepcopy(CREATE_V28)
CREATE_V299["properties"]["remote_console"]["properties"]["type"]["enum"].append(
    "spice-direct")


def create_schema(ver: Version) -> dict:
    if ver >= (2, 99):
        return CREATE_V299
    if ver >= (2, 8):
        return CREATE_V28
    return CREATE_V26


GET_VNC_CONSOLE = {
    "type": "object",
    "properties": {
        "os-getVNCConsole": {
            "type": "object",
            "properties": {"type": {"type": "string", "enum": ["novnc", "xvpvnc"]}},
            "required": ["type"],
            "additionalProperties": False,
        },
    },
    "required": ["os-getVNCConsole"],
    "additionalProperties": False,
}
