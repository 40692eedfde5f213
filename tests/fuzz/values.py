"""Values for fuzzing: instances of the API's JSON schemas, and hostile mutations of them.

The generator knows the schema keywords the API's schemas use (type, enum, properties,
patternProperties, items, oneOf/anyOf, formats, lengths and bounds); a body it builds is
meant to pass validation, so the request reaches the handler and the conductor, where
the bugs are. Mutations then break one spot of such a body at a time.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from typing import Any, Optional

import jsonschema

# Strings hostile to parsers, encoders, databases and regexes.
HOSTILE_STRINGS = (
    "", " ", " lead", "trail ", "\x00", "\n", "\t", "é", "💥", "\u202e", "\ufeff",
    "\ud800", "%FF", "%", "..", "../../etc/passwd", "' OR 1=1 --", "<script>", "${x}",
    "(a+)+$", "((a*)*)*b", "[", "\\", "*", "null", "true", "-1", "0", "1e400",
    "99999999999999999999999", "2.0", "nan", "2026-13-45T99:99:99Z", "a" * 256,
    "x" * 70000, "é" * 300, "::ffff:1.2.3.4", "0000:0000:0000:0000:0000:babe:220.12.22.2",
)
HOSTILE_SCALARS = (None, True, False, 0, -1, 1.5, 2 ** 31, 2 ** 63, -(2 ** 63), 2 ** 70,
                   1e308, float("nan"), float("inf"), [], {}, [None], {"": None})
_CANDIDATE_TEXT = ("a", "abc", "vm1", "host1", "c1", "k1", "key-1", "1", "10", "HARD",
                   "true", "192.0.2.1", "2001:db8::1", "x:y", "nova", "Zm9v")


def deep(n: int) -> Any:
    """A list nested n deep, built without recursion."""
    value: Any = []
    for _ in range(n - 1):
        value = [value]
    return value


def _string(schema: dict, rng: random.Random) -> str:
    fmt = schema.get("format")
    if fmt == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128)))
    if fmt == "ipv4":
        return f"192.0.2.{rng.randint(1, 254)}"
    if fmt == "ipv6":
        return f"2001:db8::{rng.randint(1, 9999):x}"
    if fmt == "base64":
        return "Zm9vYmFy"
    if fmt in ("date-time", "datetime"):
        return "2026-01-02T03:04:05Z"
    lo = schema.get("minLength", 1)
    hi = max(lo, min(schema.get("maxLength", 16), 16))
    pattern = schema.get("pattern")
    if pattern:
        for text in _CANDIDATE_TEXT:
            if lo <= len(text) <= schema.get("maxLength", 1 << 30) and _matches(pattern,
                                                                                 text):
                return text
    return "".join(rng.choice("abcdefghijk0123") for _ in range(rng.randint(lo, hi)))


def _matches(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def _pick_type(schema: dict, rng: random.Random) -> str:
    t = schema.get("type")
    if isinstance(t, list):
        choices = [x for x in t if x != "null"] or t
        return rng.choice(choices)
    if t:
        return t
    if "properties" in schema or "patternProperties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "null"


def valid(schema: Any, rng: random.Random, depth: int = 0, hints: Optional[dict] = None
          ) -> Any:
    """A value meant to satisfy ``schema`` (best effort: odd patterns may miss).
    ``hints``: values for properties by name (an image or flavor that exists)."""
    if not isinstance(schema, dict) or depth > 8:
        return None
    if "enum" in schema:
        return rng.choice(schema["enum"])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return valid(rng.choice(schema[key]), rng, depth + 1, hints)
    if "allOf" in schema:
        return valid(schema["allOf"][0], rng, depth + 1, hints)
    t = _pick_type(schema, rng)
    if t == "object":
        return _object(schema, rng, depth, hints or {})
    if t == "array":
        items = schema.get("items", {})
        lo = schema.get("minItems", 0)
        n = rng.randint(lo, max(lo, min(schema.get("maxItems", 2), 2)))
        if isinstance(items, list):
            return [valid(s, rng, depth + 1, hints) for s in items]
        return [valid(items, rng, depth + 1, hints) for _ in range(n)]
    if t == "string":
        return _string(schema, rng)
    if t == "integer":
        lo = schema.get("minimum", 0)
        return rng.randint(lo, min(schema.get("maximum", lo + 100), lo + 100))
    if t == "number":
        return float(schema.get("minimum", 0)) + rng.random()
    if t == "boolean":
        return rng.random() < 0.5
    return None


OMIT = object()  # a hint: leave this optional property out (a feature not offered)


def _fits(schema: dict, value: Any) -> bool:
    return jsonschema.Draft4Validator(schema).is_valid(value)


def _object(schema: dict, rng: random.Random, depth: int, hints: dict) -> dict:
    out: dict = {}
    required = schema.get("required", [])
    for key, sub in schema.get("properties", {}).items():
        hint = hints.get(key)
        if hint is OMIT and key not in required:
            continue
        if key in required or rng.random() < (0.9 if hint is not None else 0.3):
            fits = hint is not None and hint is not OMIT and _fits(sub, hint)
            out[key] = hint if fits else valid(sub, rng, depth + 1, hints)
    for pattern, sub in schema.get("patternProperties", {}).items():
        key = next((k for k in _CANDIDATE_TEXT if _matches(pattern, k)), None)
        if key is not None and rng.random() < 0.7:
            out[key] = valid(sub, rng, depth + 1, hints)
    return out


def hostile(rng: random.Random) -> Any:
    """One hostile value: a nasty string or scalar, or a deep or wide structure."""
    roll = rng.random()
    if roll < 0.5:
        return rng.choice(HOSTILE_STRINGS)
    if roll < 0.85:
        return rng.choice(HOSTILE_SCALARS)
    if roll < 0.93:
        return deep(rng.choice((50, 500, 900)))
    return {f"k{i}": i for i in range(rng.choice((100, 5000)))}


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, prefix + (i,)))
    return out


def mutate(body: Any, rng: random.Random) -> Any:
    """A copy of body with one spot broken: replaced, dropped, or joined by a stranger."""
    body = json.loads(json.dumps(body))
    paths = [p for p in _paths(body) if p]
    if not paths:
        return hostile(rng)
    path = rng.choice(paths)
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    roll = rng.random()
    if roll < 0.7:
        parent[path[-1]] = hostile(rng)
    elif roll < 0.85 and isinstance(parent, dict):
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[rng.choice(HOSTILE_STRINGS[:20]) or "extra"] = hostile(rng)
    else:
        parent.append(hostile(rng))
    return body


def encode(body: Any) -> bytes:
    """JSON bytes as a client could send them (NaN and lone surrogates included)."""
    return json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")


RAW_BODIES = (
    b"", b"{", b"}", b"[]", b"null", b"0", b'""', b"{}", b'{"": null}',
    b'{"a": "\xff\xfe"}', b"\xff\xfe\xfd", b"\xef\xbb\xbf{}", b"NaN", b"[" * 100000,
    b"[" * 100000 + b"]" * 100000, b'{"a":' * 50000 + b"1" + b"}" * 50000,
    b'{"x": "' + b"a" * (1 << 20) + b'"}', b"{" + b'"k": 1,' * 150000 + b'"k": 2}',
)
