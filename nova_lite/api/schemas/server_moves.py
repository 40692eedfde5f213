"""JSON schemas of the operator's moves: os-migrateLive and evacuate (server actions),
and force_complete (POST /servers/{id}/migrations/{id}/action), by microversion."""

from __future__ import annotations

import copy

from nova_lite.api.microversion import Version
from nova_lite.api.schemas.quota_sets import BOOLEAN
from nova_lite.api.schemas.servers import HOSTNAME

_HOST_OR_NULL = {**HOSTNAME, "type": ["string", "null"]}


def _action(key: str, props: dict, required: list[str]) -> dict:
    return {"type": "object",
            "properties": {key: {"type": "object", "properties": props,
                                 "required": required, "additionalProperties": False}},
            "required": [key], "additionalProperties": False}


# os-migrateLive: 2.1 host, block_migration and disk_over_commit (all required);
# 2.25 block_migration may be "auto", disk_over_commit goes; 2.30 force; 2.68 no force.
LIVE_V21 = _action("os-migrateLive", {"host": _HOST_OR_NULL, "block_migration": BOOLEAN,
                                      "disk_over_commit": BOOLEAN},
                   ["host", "block_migration", "disk_over_commit"])
_BLOCK_V225 = {"oneOf": [BOOLEAN, {"type": "string", "enum": ["auto"]}]}
LIVE_V225 = _action("os-migrateLive", {"host": _HOST_OR_NULL, "block_migration": _BLOCK_V225},
                    ["host", "block_migration"])
LIVE_V230 = _action("os-migrateLive", {"host": _HOST_OR_NULL, "block_migration": _BLOCK_V225,
                                       "force": BOOLEAN}, ["host", "block_migration"])
LIVE_V268 = copy.deepcopy(LIVE_V225)


def live_migrate(ver: Version) -> dict:
    if ver >= (2, 68):
        return LIVE_V268
    if ver >= (2, 30):
        return LIVE_V230
    if ver >= (2, 25):
        return LIVE_V225
    return LIVE_V21


# evacuate: 2.1 host, onSharedStorage (required), adminPass; 2.14 no onSharedStorage;
# 2.29 force; 2.68 no force.
_PASSWORD = {"type": "string"}
EVACUATE_V21 = _action("evacuate", {"host": HOSTNAME, "onSharedStorage": BOOLEAN,
                                    "adminPass": _PASSWORD}, ["onSharedStorage"])
EVACUATE_V214 = _action("evacuate", {"host": HOSTNAME, "adminPass": _PASSWORD}, [])
EVACUATE_V229 = _action("evacuate", {"host": HOSTNAME, "adminPass": _PASSWORD,
                                     "force": BOOLEAN}, [])
EVACUATE_V268 = copy.deepcopy(EVACUATE_V214)


def evacuate(ver: Version) -> dict:
    if ver >= (2, 68):
        return EVACUATE_V268
    if ver >= (2, 29):
        return EVACUATE_V229
    if ver >= (2, 14):
        return EVACUATE_V214
    return EVACUATE_V21


FORCE_COMPLETE = {"type": "object",
                  "properties": {"force_complete": {"type": "null"}},
                  "required": ["force_complete"], "additionalProperties": False}
