"""JSON schemas of the os-keypairs resource, per microversion."""

from __future__ import annotations

import copy

from nova_lite.api.microversion import Version

# Names: printable, no leading/trailing blanks, and only these characters (2.92 adds
# '@' and '.').
NAME_20 = {"type": "string", "minLength": 1, "maxLength": 255, "format": "keypair_name_20"}
NAME_292 = {"type": "string", "minLength": 1, "maxLength": 255, "format": "keypair_name_292"}

CREATE = {
    "type": "object",
    "properties": {
        "keypair": {
            "type": "object",
            "properties": {"name": NAME_20, "public_key": {"type": "string"}},
            "required": ["name"],
            "additionalProperties": False,
        },
    },
    "required": ["keypair"],
    "additionalProperties": False,
}
CREATE_V22 = copy.deepcopy(CREATE)
CREATE_V22["properties"]["keypair"]["properties"]["type"] = {"type": "string",
                                                            "enum": ["ssh", "x509"]}
CREATE_V210 = copy.deepcopy(CREATE_V22)
CREATE_V210["properties"]["keypair"]["properties"]["user_id"] = {"type": "string"}
CREATE_V292 = copy.deepcopy(CREATE_V210)
CREATE_V292["properties"]["keypair"]["properties"]["name"] = NAME_292
CREATE_V292["properties"]["keypair"]["required"] = ["name", "public_key"]


def create_schema(ver: Version) -> dict:
    if ver >= (2, 92):
        return CREATE_V292
    if ver >= (2, 10):
        return CREATE_V210
    if ver >= (2, 2):
        return CREATE_V22
    return CREATE


def query_params(ver: Version, listing: bool) -> frozenset:
    """Query parameters known (2.75 refuses others)."""
    names = {"user_id"} if ver >= (2, 10) else set()
    if listing and ver >= (2, 35):
        names |= {"limit", "marker"}
    return frozenset(names)
