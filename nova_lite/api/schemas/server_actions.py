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
