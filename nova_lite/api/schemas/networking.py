"""JSON schemas of os-server-external-events, os-interface and the security group
actions."""

from __future__ import annotations

from nova_lite.api.microversion import Version

_EVENT_NAMES_BASE = ["network-changed", "network-vif-plugged", "network-vif-unplugged",
                     "network-vif-deleted"]
# microversion -> event names accepted from it on
EVENT_NAMES: list[tuple[Version, list[str]]] = [
    ((2, 93), _EVENT_NAMES_BASE + ["volume-extended", "power-update",
                                   "accelerator-request-bound", "volume-reimaged"]),
    ((2, 82), _EVENT_NAMES_BASE + ["volume-extended", "power-update",
                                   "accelerator-request-bound"]),
    ((2, 76), _EVENT_NAMES_BASE + ["volume-extended", "power-update"]),
    ((2, 51), _EVENT_NAMES_BASE + ["volume-extended"]),
    ((2, 1), _EVENT_NAMES_BASE),
]


def external_events(ver: Version) -> dict:
    names = next(n for since, n in EVENT_NAMES if ver >= since)
    return {
        "type": "object",
        "properties": {
            "events": {
                "type": "array", "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "server_uuid": {"type": "string", "format": "uuid"},
                        "name": {"type": "string", "enum": names},
                        "status": {"type": "string",
                                   "enum": ["failed", "completed", "in-progress"]},
                        "tag": {"type": "string", "maxLength": 255},
                    },
                    "required": ["server_uuid", "name"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["events"],
        "additionalProperties": False,
    }


_ATTACH = {
    "type": "object",
    "properties": {
        "interfaceAttachment": {
            "type": "object",
            "properties": {
                "net_id": {"type": "string", "format": "uuid"},
                "port_id": {"type": "string", "format": "uuid"},
                "fixed_ips": {
                    "type": "array", "minItems": 1, "maxItems": 1,
                    "items": {"type": "object",
                              "properties": {"ip_address": {"type": "string"}},
                              "required": ["ip_address"], "additionalProperties": False},
                },
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}
ATTACH_V249 = {**_ATTACH, "properties": {"interfaceAttachment": {
    **_ATTACH["properties"]["interfaceAttachment"],
    "properties": {**_ATTACH["properties"]["interfaceAttachment"]["properties"],
                   "tag": {"type": "string", "maxLength": 60, "pattern": "^[^,/]*$"}}}}}


def attach(ver: Version) -> dict:
    return ATTACH_V249 if ver >= (2, 49) else _ATTACH


def security_group_action(key: str) -> dict:
    return {
        "type": "object",
        "properties": {key: {
            "type": "object",
            "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255}},
            "required": ["name"], "additionalProperties": False}},
        "required": [key], "additionalProperties": False,
    }
