"""Matching flavor extra specs against host aggregate metadata, with the operators Nova's
operators write: ``<in> x``, ``<all-in> x y``, ``<or> a <or> b``, numeric ``= == != >= <=``
and string ``s== s!= s< s<= s> s>=``; a value without an operator must equal."""

from __future__ import annotations

import operator
from typing import Callable, Optional

SCOPE = "aggregate_instance_extra_specs"


def _num(op: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    return lambda have, want: op(float(have), float(want))


_OPS: dict[str, Callable[[str, str], bool]] = {
    "=": _num(operator.ge), "==": _num(operator.eq), "!=": _num(operator.ne),
    ">=": _num(operator.ge), "<=": _num(operator.le),
    "s==": operator.eq, "s!=": operator.ne, "s<": operator.lt, "s<=": operator.le,
    "s>": operator.gt, "s>=": operator.ge,
    "<in>": lambda have, want: want in have,
}


def matches(have: str, wanted: str) -> bool:
    """Does the aggregate's value ``have`` satisfy the extra spec value ``wanted``?"""
    words = wanted.split()
    op = words[0] if words else None
    if op == "<or>":
        return have in words[1::2]
    if op == "<all-in>":
        return bool(words[1:]) and all(w in have for w in words[1:])
    if op not in _OPS:
        return have == wanted
    if len(words) < 2:
        return False
    try:
        return _OPS[op](have, words[1])
    except ValueError:
        return False


def mismatch(extra_specs: dict, metadata: dict) -> Optional[str]:
    """None when every relevant extra spec is met by the host's aggregate metadata
    (key -> values over its aggregates), else why not."""
    for key, wanted in extra_specs.items():
        scope, sep, rest = key.partition(":")
        if sep:
            if scope != SCOPE:
                continue  # another namespace: not this filter's business
            key = rest
        values = metadata.get(key) or []
        if not values:
            return f"no aggregate of the host sets {key} (the flavor wants {wanted})"
        if not any(matches(v, str(wanted)) for v in values):
            return f"aggregate metadata {key}={','.join(values)} does not match {wanted}"
    return None
