"""JSON schemas of POST /servers/{id}/action bodies, one per action key."""

from __future__ import annotations

_NULL_OR_EMPTY = {"type": ["null", "object"], "properties": {}, "additionalProperties": False}


def _action(key: str, value_schema: dict) -> dict:
    return {
        "type": "object",
        "properties": {key: value_schema},
        "required": [key],
        "additionalProperties": False,
    }


REBOOT = _action("reboot", {
    "type": "object",
    "properties": {
        "type": {"type": "string",
                 "enum": ["HARD", "Hard", "hard", "SOFT", "Soft", "soft"]},
    },
    "required": ["type"],
    "additionalProperties": False,
})

CONSOLE_OUTPUT = _action("os-getConsoleOutput", {
    "type": "object",
    "properties": {
        "length": {"type": ["integer", "string", "null"], "pattern": "^-?[0-9]+$",
                   "minimum": -1},
    },
    "additionalProperties": False,
})

# Actions whose body value carries nothing ({"pause": null}).
SIMPLE = {key: _action(key, _NULL_OR_EMPTY)
          for key in ("os-start", "os-stop", "pause", "unpause", "suspend", "resume")}

SIMPLE.update({key: _action(key, _NULL_OR_EMPTY)
               for key in ("restore", "forceDelete", "revertResize")})

# lock: any body value before 2.73 (as Nova); from 2.73 null or {"locked_reason": ...}
LOCK = _action("lock", {})
LOCK_V273 = _action("lock", {
    "type": ["object", "null"],
    "properties": {"locked_reason": {"type": "string", "minLength": 1, "maxLength": 255}},
    "additionalProperties": False,
})
UNLOCK = _action("unlock", {})

RESET_STATE = _action("os-resetState", {
    "type": "object",
    "properties": {"state": {"type": "string", "enum": ["active", "error"]}},
    "required": ["state"],
    "additionalProperties": False,
})

RESIZE = _action("resize", {
    "type": "object",
    "properties": {
        "flavorRef": {"type": ["string", "integer"], "minLength": 1},
        "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
    },
    "required": ["flavorRef"],
    "additionalProperties": False,
})
CONFIRM_RESIZE = _action("confirmResize", _NULL_OR_EMPTY)
