"""json_text writes what json.dumps writes (read back, the same values), orjson where it
can and the standard library where orjson refuses."""

from __future__ import annotations

import json

import pytest

from nova_lite import json_text

VALUES = [
    {"servers": [{"id": "a", "metadata": {}, "tags": ["x"], "locked": False, "n": None}]},
    {1: "integer key", None: "null key", 2.5: "float key"},
    {"tuple": (1, 2), "float": 0.1, "big": 2 ** 70, "negative": -(2 ** 64)},
    {"text": "é ü 漢字 \U0001f600", "escapes": "\"\\\n\t\u0000"},
    {"lone surrogate": "\ud800"},
]


@pytest.mark.parametrize("value", VALUES)
def test_reads_back_as_json_dumps_writes(value):
    text = json_text.dumps(value)
    assert isinstance(text, bytes)
    assert json.loads(text) == json.loads(json.dumps(value))
    assert json_text.loads(text) == json.loads(json.dumps(value))


def test_refused_by_both_still_refused():
    with pytest.raises(TypeError):
        json_text.dumps({"set": {1}})


def test_not_json_is_a_value_error():
    with pytest.raises(ValueError):
        json_text.loads(b"{not json")
