"""JSON schemas of server metadata and server tags."""

from __future__ import annotations

from nova_lite.api.schemas.servers import METADATA, TAGS

TAG = TAGS["items"]

METADATA_SET = {
    "type": "object",
    "properties": {"metadata": METADATA},
    "required": ["metadata"],
    "additionalProperties": False,
}

META_ITEM = {
    "type": "object",
    "properties": {"meta": dict(METADATA, minProperties=1)},
    "required": ["meta"],
    "additionalProperties": False,
}

TAGS_SET = {
    "type": "object",
    "properties": {"tags": TAGS},
    "required": ["tags"],
    "additionalProperties": False,
}
