"""JSON schemas of /servers/{id}/os-volume_attachments (attach, update or swap)."""

from __future__ import annotations

from nova_lite.api.microversion import Version

_DEVICE = {"type": ["string", "null"],
           "pattern": "(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$"}
_VOLUME_ID = {"type": "string", "format": "uuid"}
_TAG = {"type": "string", "maxLength": 60, "pattern": "^[^,/]*$"}


def _wrap(properties: dict) -> dict:
    return {
        "type": "object",
        "properties": {"volumeAttachment": {
            "type": "object", "properties": properties, "required": ["volumeId"],
            "additionalProperties": False}},
        "required": ["volumeAttachment"],
        "additionalProperties": False,
    }


def create(ver: Version) -> dict:
    props: dict = {"volumeId": _VOLUME_ID, "device": _DEVICE}
    if ver >= (2, 49):
        props["tag"] = _TAG
    if ver >= (2, 79):
        props["delete_on_termination"] = {"type": "boolean"}
    return _wrap(props)


def update(ver: Version) -> dict:
    props: dict = {"volumeId": _VOLUME_ID}
    if ver >= (2, 85):
        props.update({"device": _DEVICE, "tag": _TAG, "id": _VOLUME_ID,
                      "serverId": {"type": "string", "format": "uuid"},
                      "delete_on_termination": {"type": "boolean"}})
    return _wrap(props)
