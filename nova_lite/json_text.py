"""JSON text of plain values where the amount is large: response bodies and the rows
of list pages (a detailed page of 1,000 servers is about 1 MB of JSON, which orjson
writes ten times and reads about twice as fast as the standard library).

Whatever orjson refuses (integers beyond 64 bits, text with lone surrogates) is written
by the standard library instead, so a value encodes here whenever ``json.dumps`` would
encode it (that text is ASCII, a lone surrogate escaped). Otherwise text is UTF-8, not
ASCII with escapes; NaN and infinities are null.
"""

from __future__ import annotations

import json
from typing import Any, Union

import orjson

# Keys that are not text (an integer, None) become text, as json.dumps makes them.
_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> bytes:
    """``value`` as compact JSON in UTF-8."""
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def loads(text: Union[bytes, str]) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # e.g. an escaped lone surrogate, which json reads
        return json.loads(text)
