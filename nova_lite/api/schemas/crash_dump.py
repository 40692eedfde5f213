"""Body of the trigger_crash_dump action (2.17): the value must be null."""

from __future__ import annotations

TRIGGER_CRASH_DUMP = {"type": "object", "properties": {"trigger_crash_dump": {"type": "null"}},
                      "required": ["trigger_crash_dump"], "additionalProperties": False}
